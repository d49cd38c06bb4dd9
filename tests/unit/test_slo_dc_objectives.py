"""The two-data-centre objectives: `replication_lag_s` (PromQL over the shard nodes' replay lag)
and `write_unavailable_s` (the write RTO per shard, from recorded ledgers, asking Prometheus
nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.load.ledger import Ledger, read_ledger
from harness.record import FaultRecord, PhaseWindow
from harness.scenario.promql_syntax import promql_error
from harness.scenario.slo_model import SLO
from harness.slo.judge import judge_slos
from harness.slo.objectives.write_unavailable import shard_outage
from harness.slo.promql import expand, template
from tests.fakes import FakeProm

T0 = 1_800_000_000.0  # the load's start
EFFECT = T0 + 30.0  # the fault's first effect
RUN = PhaseWindow(name="run", start=T0, end=T0 + 90.0)
FAULT_PHASE = PhaseWindow(name="fault", start=EFFECT, end=T0 + 60.0)
PHASES = [RUN, FAULT_PHASE, PhaseWindow(name="steady", start=T0, end=EFFECT)]


def fault(index: int = 0, first_effect: float | None = EFFECT, **extra: Any) -> FaultRecord:
    fields: dict[str, Any] = {
        "index": index,
        "type": "region_outage",
        "target": "us-east",
        "planned_start_s": 30,
        "planned_end_s": 60,
        "first_effect_at": first_effect,
        "applied_at": (first_effect or EFFECT) + 2.0,
        "removed_at": T0 + 60.0,
        "status": "removed",
    }
    return FaultRecord(**(fields | extra))


def slo(phase: str = "run", **objective: Any) -> SLO:
    return SLO.model_validate({"name": "the slo", "phase": phase, **objective})


# --- recorded ledgers ----------------------------------------------------------------------
def every(start: float, end: float, step: float = 0.5) -> list[float]:
    """Commit times from `start` up to (not including) `end`, `step` apart."""
    count = round((end - start) / step)
    return [start + i * step for i in range(count)]


def user_lines(shard: int, times: Iterable[float], *, first_id: int = 0) -> list[dict[str, Any]]:
    """Acknowledged users of `shard`, committed at `times`, as the load generator records
    them (its `t` a few ms after the commit)."""
    return [
        {"kind": "user", "id": shard + 4 * (first_id + i), "shard": shard, "home": "us-east",
         "served": "us-east", "t": at + 0.004, "node": f"shard-{shard}-us-east", "timeline": 1,
         "committed_at": at}
        for i, at in enumerate(times)
    ]  # fmt: skip


def recorded(tmp_path: Path, *lines: Sequence[dict[str, Any]]) -> Ledger:
    """The ledger the load generator would have left: JSON lines, read back by read_ledger."""
    (tmp_path / "ledger").mkdir()
    text = "".join(json.dumps(line) + "\n" for group in lines for line in group)
    (tmp_path / "ledger" / "4242.jsonl").write_text(text)
    return read_ledger(tmp_path)


def healthy(shard: int) -> list[dict[str, Any]]:
    """A shard the fault never touched: a write every 0.5 s all run long."""
    return user_lines(shard, every(T0, RUN.end))


# Shard 0 takes no write from 1.8 s before the first effect until 14.2 s after it (its primary
# was in the lost region: failover), shard 3 none after the first effect at all.
SHARD_0_FAILOVER = user_lines(0, [*every(T0, EFFECT - 1.8), *every(EFFECT + 14.2, RUN.end)])
SHARD_3_GONE = user_lines(3, every(T0, EFFECT - 0.3))


def test_the_write_rto_of_each_shard_from_a_recorded_ledger(tmp_path: Path) -> None:
    ledger = recorded(tmp_path, SHARD_0_FAILOVER, healthy(1), healthy(2), SHARD_3_GONE)
    results = judge_slos(
        [
            slo(write_unavailable_s={"max": 20, "shard": 0}),
            slo(write_unavailable_s={"max": 20, "shard": 1}),
            slo(write_unavailable_s={"max": 100, "shard": 3}),
            slo(write_unavailable_s={"max": 20}),
        ],
        PHASES,
        [fault()],
        prom := FakeProm(),
        ledger=ledger,
    )
    assert prom.calls == []  # read from the ledger: Prometheus is asked nothing
    rto_0, rto_1, rto_3, worst = results
    # The 14.2 s after the first effect, not the 16 s gap (it began before the fault).
    assert (rto_0.verdict, rto_0.observed) == ("pass", pytest.approx(14.2))
    # An unaffected shard: its ordinary gap between two writes.
    assert (rto_1.verdict, rto_1.observed) == ("pass", pytest.approx(0.5))
    # No write after the first effect at all: unavailable to the end of the run (60 s), and
    # that fails even under a larger max: the RTO is longer than the run could show.
    assert (rto_3.verdict, rto_3.observed) == ("fail", pytest.approx(60.0))
    assert rto_3.error is not None and "never succeeded again" in rto_3.error
    assert "at least 60.0 s" in rto_3.error
    assert worst.verdict == "fail" and worst.observed == pytest.approx(60.0)
    assert worst.detail == (
        "shard 0: 14.2 s; shard 1: 0.5 s; shard 2: 0.5 s; shard 3: 60.0 s (no acknowledged "
        "write after the first effect: unavailable to the end of the run)"
    )
    for result in results:
        assert result.source == "ledger" and result.objective == "write_unavailable_s"
        assert (result.window_start, result.window_end) == (EFFECT, RUN.end)
        assert result.promql.startswith("ledger: acknowledged writes")


@pytest.mark.parametrize(
    ("times", "seconds", "resumed", "never"),
    [
        pytest.param([10, 20, 34.2, *range(35, 41)], 14.2, 34.2, False, id="across the effect"),
        pytest.param([10, 21, 22, *range(30, 41)], 8.0, 30, False, id="wholly after the effect"),
        pytest.param([5, 10], 20.0, None, True, id="never again: to the end"),
        pytest.param([21, 22, 23], 17.0, None, False, id="stops again for good: to the end"),
        pytest.param([], 20.0, None, True, id="no write at all"),
        pytest.param([10, 20, 45], 20.0, None, True, id="writes after the end are not seen"),
    ],
)
def test_shard_outage(
    times: list[float], seconds: float, resumed: float | None, never: bool
) -> None:
    found = shard_outage(2, times, since=20.0, until=40.0)
    assert (found.seconds, found.resumed) == (pytest.approx(seconds), resumed)
    assert found.never_resumed is never


def test_gaps_from_a_later_fault_are_that_faults(tmp_path: Path) -> None:
    second = EFFECT + 30.0  # faults[1] cuts shard 1 off for 20 s
    shard_1 = user_lines(1, [*every(T0, second), *every(second + 20.0, RUN.end)])
    ledger = recorded(tmp_path, healthy(0), shard_1, healthy(2), healthy(3))
    faults = [fault(), fault(1, first_effect=second)]
    first, later = judge_slos(
        [slo(write_unavailable_s={"max": 5}), slo(write_unavailable_s={"max": 5, "fault": 1})],
        PHASES,
        faults,
        FakeProm(),
        ledger=ledger,
    )
    # faults[0] is searched up to faults[1]'s first effect: shard 1's gap is the later one's.
    assert (first.verdict, first.observed) == ("pass", pytest.approx(0.5))
    assert (first.window_start, first.window_end) == (EFFECT, second)
    assert "(searched up to the next fault's first effect, +30.0 s)" in (first.detail or "")
    assert (later.verdict, later.observed) == ("fail", pytest.approx(20.0))
    assert later.detail is not None and later.detail.startswith("shard 0: 0.5 s; shard 1: 20.0 s")


def test_jobs_count_on_their_owners_shard_and_the_ack_time_stands_in(tmp_path: Path) -> None:
    # Shard 2 has only photo jobs after the fault, and old-style lines without commit info.
    before = user_lines(2, every(T0, EFFECT - 1.0))
    jobs = [
        {"kind": "job", "id": f"{i}-0", "user_id": 6, "home": "us-west", "served": "us-west",
         "t": at}
        for i, at in enumerate(every(EFFECT + 3.0, RUN.end))
    ]  # fmt: skip
    ledger = recorded(tmp_path, healthy(0), healthy(1), before, jobs, healthy(3))
    [result] = judge_slos(
        [slo(write_unavailable_s={"max": 10, "shard": 2})],
        PHASES,
        [fault()],
        FakeProm(),
        ledger=ledger,
    )
    assert (result.verdict, result.observed) == ("pass", pytest.approx(3.0))


@pytest.mark.parametrize(
    ("phases", "faults", "lines", "error"),
    [
        pytest.param(PHASES, [], "healthy", "the run recorded no fault 0", id="no such fault"),
        pytest.param(
            PHASES,
            [fault(first_effect=None, applied_at=None, status="never_ran")],
            "healthy",
            "was never applied",
            id="never applied",
        ),
        pytest.param(
            [*PHASES[1:], RUN],
            [fault()],
            "nothing",
            "no acknowledged write (user or photo job)",
            id="empty ledger",
        ),
        pytest.param(
            PHASES, [fault()], "no shard 3", "no acknowledged write to shard 3", id="silent shard"
        ),
    ],
)
def test_what_the_ledger_cannot_tell_is_an_error(
    tmp_path: Path,
    phases: list[PhaseWindow],
    faults: list[FaultRecord],
    lines: str,
    error: str,
) -> None:
    shards = {"healthy": range(4), "nothing": range(0), "no shard 3": range(3)}[lines]
    ledger = recorded(tmp_path, *(healthy(s) for s in shards))
    [result] = judge_slos(
        [slo(write_unavailable_s={"max": 10})], phases, faults, FakeProm(), ledger=ledger
    )
    assert result.verdict == "error" and error in (result.error or "")
    assert result.source == "ledger"


def test_it_counts_from_the_first_effect_not_past_its_window(tmp_path: Path) -> None:
    ledger = recorded(tmp_path, *(healthy(s) for s in range(4)))
    [result] = judge_slos(
        [slo("steady", write_unavailable_s={"max": 10})],
        PHASES,
        [fault()],
        FakeProm(),
        ledger=ledger,
    )
    assert result.verdict == "error" and "after the steady window ends" in (result.error or "")


def test_without_a_ledger_it_is_an_error_and_promql_objectives_are_as_before() -> None:
    prom = FakeProm(instant=[({}, 0.01)])
    rto, errors = judge_slos(
        [slo(write_unavailable_s={"max": 10}), slo(error_ratio={"max": 0.05})],
        PHASES,
        [fault()],
        prom,
    )
    assert rto.verdict == "error" and "no ledger" in (rto.error or "")
    assert (errors.verdict, errors.source, errors.observed) == ("pass", "prometheus", 0.01)
    assert [call[0] for call in prom.calls] == ["instant"]


def test_a_missing_phase_shows_what_it_reads(tmp_path: Path) -> None:
    [result] = judge_slos(
        [slo("recovery", write_unavailable_s={"max": 10, "fault": 0, "shard": 1})],
        PHASES,
        [fault()],
        FakeProm(),
        ledger=recorded(tmp_path, healthy(1)),
    )
    assert result.verdict == "error" and result.source == "ledger"
    assert result.promql == (
        "ledger: acknowledged writes (users, jobs) of shard 1 by commit time; the longest gap "
        "after faults[0]'s first effect"
    )


@pytest.mark.parametrize(
    "value",
    [{"max": 10, "shard": 4}, {"max": -1}, {"min": 1}, {"max": 10, "region": "us-east"}, {}],
)
def test_write_unavailable_values_are_validated(value: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        slo(write_unavailable_s=value)


# --- replication_lag_s ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            {"max": 2},
            "max(max_over_time(max by (shard) (pg_replica_replay_lag_seconds)[60s:1s]))",
            id="worst shard",
        ),
        pytest.param(
            {"max": 2, "shard": 1},
            'max(max_over_time(max by (shard) (pg_replica_replay_lag_seconds{shard="1"})[60s:1s]))',
            id="one shard",
        ),
    ],
)
def test_replication_lag_promql(value: dict[str, Any], expected: str) -> None:
    lag = slo(replication_lag_s=value)
    assert lag.kind.source == "prometheus"
    assert expand(lag, 60.0) == expected
    assert promql_error(expected) is None
    assert template(lag) == expected.replace("[60s:1s]", "[$window:1s]")


def test_replication_lag_is_judged_at_the_phase_end_like_any_instant_objective() -> None:
    prom = FakeProm(instant=[({}, 3.5)])
    [result] = judge_slos(
        [slo("fault", replication_lag_s={"max": 2, "shard": 0})], PHASES, [fault()], prom
    )
    assert (result.verdict, result.observed, result.source) == ("fail", 3.5, "prometheus")
    assert prom.calls == [("instant", result.promql, FAULT_PHASE.end)]
    assert "[30s:1s]" in result.promql


@pytest.mark.parametrize("value", [{"max": 2, "shard": -1}, {"shard": 0}, {"max": 1, "tier": "x"}])
def test_replication_lag_values_are_validated(value: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        slo(replication_lag_s=value)
