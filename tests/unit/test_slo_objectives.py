"""The objective registry: each kind is a class of its own module, and the SLO model, the
schema and the PromQL come from it (nothing looks an objective up by its name)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenario.schema import schema
from harness.slo.model import SLO
from harness.slo.objectives import OBJECTIVES
from harness.slo.promql import expand

EXAMPLES: dict[str, dict[str, Any]] = {
    "error_ratio": {"max": 0.05},
    "latency_p50_ms": {"max": 100},
    "latency_p95_ms": {"max": 300},
    "latency_p99_ms": {"max": 900},
    "throughput_min_rps": {"min": 5},
    "server_error_ratio": {"tier": "web", "max": 0.01},
    "server_latency_p95_ms": {"tier": "entry", "max": 50},
    "queue_backlog_max": {"max": 100},
    "backlog_drained_within_s": {"max": 30},
    "time_to_recover_s": {"max": 10},
    "replication_lag_s": {"max": 2},
    "write_unavailable_s": {"max": 30},
}


def test_every_kind_is_registered_from_its_own_module() -> None:
    assert set(OBJECTIVES) == {*EXAMPLES, "promql"}
    for key, kind in OBJECTIVES.items():
        assert kind.key == key
        assert kind.__module__.startswith("harness.slo.objectives.")


def test_the_slo_has_one_key_per_kind_with_its_description() -> None:
    defs: Any = schema()["$defs"]
    properties = defs["SLO"]["properties"]
    for key, kind in OBJECTIVES.items():
        assert properties[key]["description"] == kind.description


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_an_slo_knows_its_kind_value_and_query(key: str) -> None:
    slo = SLO.model_validate({"name": "s", "phase": "run", key: EXAMPLES[key]})
    assert slo.kind is OBJECTIVES[key] and slo.objective == key
    assert slo.value == getattr(slo, key)
    assert expand(slo, 30.0) == slo.kind.query(slo, "30s", "30")
    assert slo.kind.bounds(slo)[0] == EXAMPLES[key].get("max")


def test_only_the_ledger_objectives_are_read_from_the_ledger() -> None:
    ledger = {key for key, kind in OBJECTIVES.items() if kind.source == "ledger"}
    assert ledger == {"write_unavailable_s"}
    assert all(kind.source == "prometheus" for key, kind in OBJECTIVES.items() if key not in ledger)


def test_custom_promql_keeps_its_bounds_on_the_slo() -> None:
    slo = SLO.model_validate({"name": "s", "phase": "run", "promql": "x[$window]", "min": 1})
    assert slo.kind is OBJECTIVES["promql"] and slo.kind.bounds(slo) == (None, 1)
    assert expand(slo, 12.0) == "x[12s]"
