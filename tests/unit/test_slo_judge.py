"""Judging SLOs from recorded Prometheus answers: pass, fail, and every kind of error."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import InfraError
from harness.record import FaultRecord, PhaseWindow, Series
from harness.scenario.slo_model import SLO
from harness.slo.judge import judge_slos
from harness.slo.query import Sample
from tests.fakes import FakeProm

NAN = float("nan")
PHASES = [
    PhaseWindow(name="run", start=1000.0, end=1180.0),
    PhaseWindow(name="steady", start=1000.0, end=1060.0),
    PhaseWindow(name="fault", start=1060.2, end=1120.4),
    PhaseWindow(name="recovery", start=1120.4, end=1180.0),
]
FAULTS = [
    FaultRecord(
        index=0,
        type="region_outage",
        target="us-east",
        planned_start_s=60,
        planned_end_s=120,
        applied_at=1060.2,
        removed_at=1120.4,
        status="removed",
    ),
]


def slo(phase: str = "fault", **objective: Any) -> SLO:
    return SLO.model_validate({"name": "the slo", "phase": phase, **objective})


def one(value: float, **labels: str) -> list[Sample]:
    return [(labels, value)]


ERR: dict[str, Any] = {"error_ratio": {"max": 0.05}}
UNREACHABLE = InfraError("Prometheus at http://127.0.0.1:9 failed on query 'x': refused")


@pytest.mark.parametrize(
    ("objective", "answer", "verdict", "observed", "error"),
    [
        pytest.param(ERR, one(0.01), "pass", 0.01, None, id="under max"),
        pytest.param(ERR, one(0.05), "pass", 0.05, None, id="max is inclusive"),
        pytest.param(ERR, one(0.2), "fail", 0.2, None, id="over max"),
        pytest.param(
            {"throughput_min_rps": {"min": 20}},
            one(20.0),
            "pass",
            20.0,
            None,
            id="min is inclusive",
        ),
        pytest.param(
            {"throughput_min_rps": {"min": 20}}, one(3.0), "fail", 3.0, None, id="under min"
        ),
        pytest.param(
            {"promql": "x", "min": 1, "max": 2}, one(2.5), "fail", 2.5, None, id="promql over max"
        ),
        pytest.param(
            {"promql": "scalar(x)", "max": 2}, one(1.0), "pass", 1.0, None, id="promql scalar"
        ),
        pytest.param(
            {"latency_p95_ms": {"max": 300}},
            one(float("inf")),
            "fail",
            float("inf"),
            None,
            id="+Inf quantile fails",
        ),
        pytest.param(ERR, [], "error", None, "no data", id="no data"),
        pytest.param(ERR, one(NAN), "error", None, "NaN", id="NaN (0/0)"),
        pytest.param(
            ERR, UNREACHABLE, "error", None, "http://127.0.0.1:9", id="Prometheus unreachable"
        ),
        pytest.param(
            {"promql": "x", "max": 1},
            [({"a": "1"}, 0.1), ({"a": "2"}, 0.2)],
            "error",
            None,
            "2 series",
            id="several series",
        ),
    ],
)
def test_instant_verdicts(
    objective: dict[str, Any], answer: Any, verdict: str, observed: float | None, error: str | None
) -> None:
    prom = FakeProm(instant=answer)
    [result] = judge_slos([slo(**objective)], PHASES, FAULTS, prom)
    assert result.verdict == verdict
    assert result.observed == observed
    if error is None:
        assert result.error is None
    else:
        assert result.error is not None and error in result.error


def test_instant_query_runs_at_the_actual_phase_end_over_the_phase() -> None:
    prom = FakeProm(instant=one(0.0))
    [result] = judge_slos([slo(**ERR)], PHASES, FAULTS, prom)
    assert prom.calls == [("instant", result.promql, 1120.4)]
    assert "[60s]" in result.promql
    assert (result.window_start, result.window_end) == (1060.2, 1120.4)
    assert (result.name, result.phase, result.objective, result.max) == (
        "the slo",
        "fault",
        "error_ratio",
        0.05,
    )


def test_missing_phase_is_an_error_that_shows_the_query_template() -> None:
    prom = FakeProm(instant=one(0.0))
    [result] = judge_slos([slo(phase="recovery", **ERR)], PHASES[:3], FAULTS, prom)
    assert result.verdict == "error"
    assert "no recovery phase" in (result.error or "")
    assert "$window" in result.promql
    assert prom.calls == []


def test_one_error_does_not_stop_the_others() -> None:
    class Flaky(FakeProm):
        def instant(self, promql: str, at: float) -> list[Sample]:
            if "x_broken" in promql:
                raise UNREACHABLE
            return one(0.0)

    slos = [slo(promql="x_broken", max=1), slo(**ERR)]
    results = judge_slos(slos, PHASES, FAULTS, Flaky())
    assert [r.verdict for r in results] == ["error", "pass"]


def series(*values: float, t0: float, labels: dict[str, str] | None = None) -> list[Series]:
    points: list[tuple[float, float | None]] = [(t0 + i, v) for i, v in enumerate(values)]
    return [Series(labels=labels or {}, points=points)]


def filled(*values: float, t0: float, end: float) -> list[Series]:
    """`values` from `t0` on, the last one repeated up to `end`: a series with no gap in its
    window (a short one would end in missing data, which is never recovered)."""
    count = int(end - t0) + 1
    return series(*values, *[values[-1]] * (count - len(values)), t0=t0)


FAULT_END = PHASES[2].end
RECOVER: dict[str, Any] = {
    "time_to_recover_s": {"max": 10, "fault": 0, "from": "start", "level": 0.01}
}
DRAIN: dict[str, Any] = {"backlog_drained_within_s": {"max": 5}}


@pytest.mark.parametrize(
    ("phase", "objective", "answer", "verdict", "observed", "error"),
    [
        pytest.param(
            "fault",
            RECOVER,
            filled(0.7, 0.5, 0.0, t0=1061, end=FAULT_END),
            "pass",
            2.8,
            None,
            id="recovers",
        ),
        pytest.param(
            "fault",
            RECOVER,
            filled(*[0.7] * 20, 0.0, t0=1061, end=FAULT_END),
            "fail",
            20.8,
            None,
            id="recovers too late",
        ),
        pytest.param(
            "fault",
            RECOVER,
            filled(0.7, t0=1061, end=FAULT_END),
            "fail",
            None,
            "still above 0.01 at the end of the fault window (0.7)",
            id="never recovers",
        ),
        pytest.param(
            "fault",
            RECOVER,
            series(*[0.7] * 53, 0.7, 0.0, 0.7, 0.0, 0.7, 0.0, 0.0, t0=1061),
            "fail",
            None,
            "needs 3 in a row",
            id="flaps to the end",
        ),
        pytest.param(
            "fault", RECOVER, series(NAN, NAN, t0=1061), "error", None, "no data", id="only NaN"
        ),
        pytest.param("fault", RECOVER, [], "error", None, "no data", id="empty"),
        pytest.param("fault", RECOVER, UNREACHABLE, "error", None, "127.0.0.1:9", id="unreachable"),
        pytest.param(
            "fault",
            RECOVER,
            series(0.0, 0.0, 0.0, t0=1061) * 2,
            "error",
            None,
            "2 series",
            id="several series",
        ),
        pytest.param(
            "recovery",
            DRAIN,
            series(40, 12, 0, 0, 0, t0=1121),
            "pass",
            2.6,
            None,
            id="backlog drains",
        ),
        pytest.param(
            "recovery",
            DRAIN,
            series(40, 30, 20, 10, t0=1121),
            "fail",
            None,
            "still above 0",
            id="backlog never drains",
        ),
        pytest.param(
            "fault",
            DRAIN,
            series(0, 0, 0, t0=1121),
            "error",
            None,
            "after the fault window ends",
            id="reference after the phase",
        ),
        # A drained queue under live load: the jobs that just arrived show at some scrapes.
        pytest.param(
            "recovery",
            DRAIN,
            series(40, 12, 0, 1, 0, 1, 1, 0, 1, 0, t0=1121),
            "fail",
            None,
            "back at or under 0 only in the last samples",
            id="level 0 wants three empty scrapes in a row",
        ),
        pytest.param(
            "recovery",
            {"backlog_drained_within_s": {"max": 5, "level": 2}},
            series(40, 12, 0, 1, 0, 1, 1, 0, 1, t0=1121),
            "pass",
            2.6,
            None,
            id="level 2 counts the arriving jobs as drained",
        ),
        pytest.param(
            "recovery",
            {"backlog_drained_within_s": {"max": 5, "level": 2}},
            series(40, 30, 20, 10, 3, 3, 3, t0=1121),
            "fail",
            None,
            "still above 2",
            id="a level is still a bound",
        ),
    ],
)
def test_settle_verdicts(
    phase: str,
    objective: dict[str, Any],
    answer: Any,
    verdict: str,
    observed: float | None,
    error: str | None,
) -> None:
    prom = FakeProm(series=answer)
    [result] = judge_slos([slo(phase=phase, **objective)], PHASES, FAULTS, prom)
    assert result.verdict == verdict
    assert result.observed == pytest.approx(observed)
    if error is None:
        assert result.error is None
    else:
        assert result.error is not None and error in result.error


def test_gaps_are_no_data_and_never_recovered() -> None:
    gaps = [Series(labels={}, points=[(1061.0, None), (1062.0, None)])]
    [result] = judge_slos([slo(**RECOVER)], PHASES, FAULTS, FakeProm(series=gaps))
    assert result.verdict == "error" and "no data" in (result.error or "")
    ends_in_gap = [Series(labels={}, points=[(1061.0, 0.5), (1062.0, None)])]
    [result] = judge_slos([slo(**RECOVER)], PHASES, FAULTS, FakeProm(series=ends_in_gap))
    assert result.verdict == "fail" and "(no data)" in (result.error or "")


def test_recovery_counts_from_the_faults_actual_end() -> None:
    objective = {"time_to_recover_s": {"max": 10, "from": "end"}}
    prom = FakeProm(series=filled(0.3, 0.0, t0=1121, end=1180.0))
    [result] = judge_slos([slo(phase="recovery", **objective)], PHASES, FAULTS, prom)
    assert prom.calls == [("range", result.promql, 1120.4, 1180.0, 1.0)]
    assert result.window_start == 1120.4
    assert result.observed == pytest.approx(1.6)


@pytest.mark.parametrize(
    ("objective", "faults", "error"),
    [
        ({"time_to_recover_s": {"max": 1, "fault": 3}}, FAULTS, "no fault 3"),
        (
            {"time_to_recover_s": {"max": 1}},
            [FAULTS[0].model_copy(update={"applied_at": None})],
            "never applied",
        ),
        (
            {"time_to_recover_s": {"max": 1, "from": "end"}},
            [FAULTS[0].model_copy(update={"removed_at": None})],
            "never removed",
        ),
        (DRAIN, [], "none was removed"),
        (
            DRAIN,
            [*FAULTS, FAULTS[0].model_copy(update={"index": 1, "removed_at": None})],
            "none was removed",
        ),
    ],
)
def test_missing_reference_is_an_error(
    objective: dict[str, Any], faults: list[FaultRecord], error: str
) -> None:
    [result] = judge_slos([slo(phase="run", **objective)], PHASES, faults, FakeProm())
    assert result.verdict == "error"
    assert error in (result.error or "")


def test_backlog_counts_from_the_last_removal() -> None:
    later = FAULTS[0].model_copy(update={"index": 1, "applied_at": 1100.0, "removed_at": 1130.0})
    prom = FakeProm(series=series(5, 0, 0, 0, t0=1131))
    [result] = judge_slos([slo(phase="run", **DRAIN)], PHASES, [*FAULTS, later], prom)
    assert prom.calls[0][2:4] == (1130.0, 1180.0)
    assert result.verdict == "pass" and result.observed == pytest.approx(2.0)


def test_backlog_with_fault_n_counts_from_that_faults_removal() -> None:
    later = FAULTS[0].model_copy(update={"index": 1, "applied_at": 1130.0, "removed_at": 1150.0})
    phases = [*PHASES, PhaseWindow(name="recovery[0]", start=1120.4, end=1130.0)]
    prom = FakeProm(series=series(5, 5, 0, 0, 0, 0, t0=1121))
    drain = slo(phase="recovery", fault=0, **DRAIN)
    [result] = judge_slos([drain], phases, [*FAULTS, later], prom)
    assert prom.calls[0][2:4] == (1120.4, 1130.0)
    assert (result.phase, result.verdict) == ("recovery[0]", "pass"), result
    assert result.observed == pytest.approx(2.6)


def test_a_late_rise_is_not_recovered_at_once() -> None:
    # The rate shows the outage 4 s in; the first quiet seconds are not a recovery.
    late = filled(0.0, 0.0, 0.0, 0.0, *[0.6] * 16, 0.0, t0=1061, end=FAULT_END)
    [result] = judge_slos([slo(**RECOVER)], PHASES, FAULTS, FakeProm(series=late))
    assert (result.verdict, result.observed) == ("fail", pytest.approx(20.8))


def test_from_start_is_searched_until_the_faults_removal() -> None:
    # Judged over the whole run: errors after the removal (failback) are not this recovery's,
    # and a failover that never happened is not recovered when the fault is removed.
    run_recover = {"time_to_recover_s": {"max": 10, "fault": 0, "level": 0.01}}
    failback = filled(*[0.5] * 5, *[0.0] * 60, 0.5, 0.5, 0.0, t0=1061, end=1180.0)
    prom = FakeProm(series=failback)
    [result] = judge_slos([slo(phase="run", **run_recover)], PHASES, FAULTS, prom)
    assert prom.calls[0][2:4] == (1060.2, 1120.4)
    assert (result.verdict, result.observed) == ("pass", pytest.approx(5.8))
    never = FakeProm(series=filled(*[0.5] * 60, 0.0, t0=1061, end=1180.0))
    [result] = judge_slos([slo(phase="run", **run_recover)], PHASES, FAULTS, never)
    assert result.verdict == "fail"
    assert "still above 0.01 at fault 0's removal (0.5)" in (result.error or "")


def test_from_end_is_searched_until_the_next_fault() -> None:
    later = FAULTS[0].model_copy(update={"index": 1, "applied_at": 1150.0, "removed_at": 1160.0})
    objective = {"time_to_recover_s": {"max": 10, "fault": 0, "from": "end"}}
    prom = FakeProm(series=filled(0.3, 0.0, t0=1121, end=1150.0))
    [result] = judge_slos([slo(phase="run", **objective)], PHASES, [*FAULTS, later], prom)
    assert prom.calls[0][2:4] == (1120.4, 1150.0)
    assert (result.verdict, result.observed) == ("pass", pytest.approx(1.6))


def test_a_series_that_stops_early_is_not_recovered() -> None:
    # The load generator's series ends 50 s before the window does: nobody saw a recovery.
    short = series(0.7, 0.0, 0.0, 0.0, 0.0, t0=1061)
    [result] = judge_slos([slo(**RECOVER)], PHASES, FAULTS, FakeProm(series=short))
    assert result.verdict == "fail"
    assert "still above 0.01 at the end of the fault window (no data)" in (result.error or "")


def test_from_start_counts_from_the_faults_first_effect() -> None:
    # The apply step ended 3 s after its first change: the clients felt the fault from then.
    early = [FAULTS[0].model_copy(update={"first_effect_at": 1057.2})]
    run_recover = {"time_to_recover_s": {"max": 10, "fault": 0, "level": 0.01}}
    prom = FakeProm(series=filled(0.5, 0.0, t0=1058, end=1180.0))
    [result] = judge_slos([slo(phase="run", **run_recover)], PHASES, early, prom)
    assert prom.calls[0][2:4] == (1057.2, 1120.4)
    assert result.window_start == 1057.2


def test_from_end_stops_at_the_next_faults_first_effect() -> None:
    later = FAULTS[0].model_copy(
        update={"index": 1, "first_effect_at": 1145.0, "applied_at": 1150.0, "removed_at": 1160.0}
    )
    objective = {"time_to_recover_s": {"max": 10, "fault": 0, "from": "end"}}
    prom = FakeProm(series=filled(0.3, 0.0, t0=1121, end=1145.0))
    judge_slos([slo(phase="run", **objective)], PHASES, [*FAULTS, later], prom)
    assert prom.calls[0][2:4] == (1120.4, 1145.0)


def test_from_end_stops_at_the_next_fault_in_time_not_in_the_list() -> None:
    # faults[1] ran before faults[0] (a scenario need not list them in time order): it does
    # not end faults[0]'s recovery, which runs to the window's end as the plan's recovery[0].
    earlier = FAULTS[0].model_copy(
        update={"index": 1, "first_effect_at": 1010.0, "applied_at": 1010.0, "removed_at": 1020.0}
    )
    objective = {"time_to_recover_s": {"max": 10, "fault": 0, "from": "end"}}
    prom = FakeProm(series=filled(0.3, 0.0, t0=1121, end=1180.0))
    [result] = judge_slos([slo(phase="run", **objective)], PHASES, [*FAULTS, earlier], prom)
    assert prom.calls[0][2:4] == (1120.4, 1180.0)
    assert result.verdict == "pass"
