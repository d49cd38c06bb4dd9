"""A run that did not happen as planned, or left the stack broken, says so in every rendering:
the terminal summary, junit.xml and report.html."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.record import FaultRecord, RunRecord, save_record
from harness.report import render_html
from harness.report.index import render_index, scan_runs
from harness.report.junit import render_junit
from harness.report.summary import summary_lines
from tests.samples import sample_record

DEVIATION = (
    "the load generator (Locust) was killed by signal 9 at 8.0 s of the 30 s load, 22.0 s early"
    " (LOAD_EARLY_S 3 s); faults that never ran: 0 (region_outage on us-east, due at 60 s);"
    " the run is not judged"
)


def not_judged() -> RunRecord:
    fault = FaultRecord(index=0, type="region_outage", target="us-east", planned_start_s=60,
                        planned_end_s=120, status="never_ran")  # fmt: skip
    return sample_record(status="error", exit_code=3, slos=[], invariants=[], deviation=DEVIATION,
                         error=f"error: {DEVIATION}\n  hint: see r/locust.log", faults=[fault],
                         phases=[])  # fmt: skip


def test_the_summary_says_not_judged_and_which_faults_never_ran() -> None:
    lines = summary_lines(not_judged(), "reports/r")
    assert lines[0] == (
        "NOT JUDGED: the run did not happen as planned; none of its 5 SLOs and invariants was"
        " judged"
    )
    assert lines[1] == "NEVER RAN: fault 0 (region_outage on us-east, due at 60 s)"
    assert lines[2] == f"RUN ERROR: error: {DEVIATION}"
    assert lines[-1].startswith("NOT JUDGED: region-outage (exit code 3)")


def test_junit_lists_each_planned_check_as_skipped_not_judged() -> None:
    root = ET.fromstring(render_junit(not_judged()))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("skipped") == "5" and suite.get("errors") == "1"
    skipped = [c for c in suite.iter("testcase") if c.find("skipped") is not None]
    assert [c.get("name") for c in skipped] == [
        "errors while us-east is down", "steady p95", "custom", "no_lost_writes", "no_lost_jobs",
    ]  # fmt: skip
    message = skipped[0].find("skipped").get("message")  # type: ignore[union-attr]
    assert message == f"not judged: {DEVIATION}"


def test_the_report_banner_says_not_judged() -> None:
    page = render_html(not_judged())
    assert "<title>NOT JUDGED: region-outage" in page
    assert "NEVER RAN: fault 0 (region_outage on us-east, due at 60 s)" in page


def test_a_broken_heal_overrides_a_judged_verdict_in_the_summary() -> None:
    broken = "reset faults: Toxiproxy reset failed, links of stack 'default' may keep toxics"
    record = sample_record(status="error", exit_code=3, left_broken=[broken],
                           error="error: the stack was left broken: " + broken)  # fmt: skip
    lines = summary_lines(record, "reports/r")
    assert f"LEFT BROKEN: {broken}" in lines
    assert any(
        line.startswith("VERDICT OVERRIDDEN: the checks above were judged") for line in lines
    )
    assert lines[-1].startswith("ERROR: region-outage (exit code 3)")


def test_the_index_says_a_run_was_not_judged(tmp_path: Path) -> None:
    run_dir = tmp_path / "20240501T120000Z-region-outage"
    run_dir.mkdir()
    save_record(not_judged(), run_dir)
    (entry,) = scan_runs(tmp_path)
    assert entry.problem == f"not judged: {DEVIATION}"
    assert "not judged: the load generator" in render_index([entry])
