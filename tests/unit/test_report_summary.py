"""The end-of-run summary: a table of every check, and one wording of a row everywhere."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.record import InvariantResult, SloResult
from harness.report import render_html, render_junit, summary_text
from harness.report.summary import bound_text, failure_lines, table
from tests.samples import sample_record

BOTH = SloResult(name="p95 both ways", phase="fault", objective="latency_p95_ms", promql="q",
                 observed=3.0, max=2.0, min=1.0, verdict="fail")  # fmt: skip


def test_bounds_read_one_way() -> None:
    assert bound_text(2, 1) == "max 2, min 1"
    assert bound_text(0.05, None) == "max 0.05"
    assert bound_text(None, 20) == "min 20"
    assert bound_text(None, None) == "-"


def test_the_table_has_a_row_per_slo_and_invariant() -> None:
    record = sample_record()
    lines = table(record).splitlines()
    assert lines[0].split() == ["check", "name", "phase", "observed", "bound", "verdict"]
    assert len(lines) == 1 + len(record.slos) + len(record.invariants)
    assert lines[1].startswith("SLO") and lines[-1].startswith("INVARIANT")
    assert all(line.split()[-1] in ("PASS", "FAIL", "ERROR") for line in lines[1:])


def test_a_row_reads_the_same_on_the_terminal_in_junit_and_in_the_report() -> None:
    record = sample_record(slos=[BOTH], invariants=[])
    (line,) = failure_lines(record)
    assert line == "SLO FAIL: p95 both ways [phase fault] observed 3, bound max 2, min 1"
    assert "max 2, min 1" in table(record)
    failure = ET.fromstring(render_junit(record)).find(".//failure")
    assert failure is not None and failure.get("message") == "observed 3, bound max 2, min 1"
    page = render_html(record)
    assert line in page and "max 2, min 1" in page


def test_the_terminal_shows_the_table_each_failure_the_whole_error_and_the_verdict() -> None:
    record = sample_record(status="error", exit_code=3, error="error: boom\n  hint: start it")
    text = summary_text(record, "reports/r")
    assert text.startswith(table(record))
    assert "RUN ERROR: error: boom\n  hint: start it" in text
    assert text.endswith("ERROR: region-outage (exit code 3); report in reports/r")


def test_a_run_that_judged_nothing_is_just_the_verdict() -> None:
    record = sample_record(status="passed", exit_code=0, slos=[], invariants=[], events=[])
    assert (
        summary_text(record, "reports/r")
        == "PASSED: region-outage (exit code 0); report in reports/r"
    )


def test_the_terminal_shows_each_promotion_and_demotion_after_the_table() -> None:
    record = sample_record()
    record.events.reverse()  # in time order whatever order they were recorded in
    text = summary_text(record, "reports/r")
    failover = [line for line in text.splitlines() if line.startswith("failover")]
    assert failover == [
        "failover at +65.0 s: shard 0: shard-0-us-east demoted",
        "failover at +65.0 s: shard 2: shard-2-us-east demoted",
        "failover at +75.0 s: shard 0: shard-0-us-west promoted",
        "failover at +75.0 s: shard 2: shard-2-us-west promoted",
    ]
    assert text.index(failover[0]) > text.index(table(record))
    assert text.index(failover[-1]) < text.index(failure_lines(record)[0])
    # the other events (faults, containers) stay in the report's event list
    assert "container_stopped" not in text and "fault_applied" not in text


def test_the_terminal_and_the_report_say_which_load_model_ran() -> None:
    record = sample_record()
    assert "load: closed model" in summary_text(record, "reports/r")
    record.scenario["load"] = {**record.scenario["load"], "model": "open", "rate": 200}
    assert "load: open model: 200 iterations/s" in summary_text(record, "reports/r")
    assert "intended send time" in render_html(record)


UNSEEN = InvariantResult(name="no_lost_writes", verdict="fail", acknowledged=120, found=120,
                         unknown=9, unknown_tolerated=6,
                         detail="120 users acknowledged, 120 on their shard; 9 of 129 user "
                                "writes unknown")  # fmt: skip


def test_unknown_outcomes_are_shown_in_the_table_junit_and_the_report() -> None:
    record = sample_record(slos=[], invariants=[UNSEEN])
    row = table(record).splitlines()[1]
    assert "0 of 120 lost, 9 unknown" in row and "0 lost, max 6 unknown" in row
    (line,) = failure_lines(record)
    assert line.startswith("INVARIANT FAIL: no_lost_writes: 120 users acknowledged")
    assert "9 of 129 user writes unknown" in line
    failure = ET.fromstring(render_junit(record)).find(".//failure")
    assert failure is not None
    assert (
        failure.get("message") == "0 lost, 0 duplicated of 120 acknowledged, 9 unknown (120 found)"
    )
    page = render_html(record)
    assert ">Unknown</th>" in page and "max 6</div>" in page
