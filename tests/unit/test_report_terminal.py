"""The stderr summary at the end of a run: each failure on its own line, then the verdict."""

from __future__ import annotations

from harness.report import failure_lines, summary_lines
from tests.samples import sample_record


def test_failed_run_names_each_failure_then_the_verdict() -> None:
    record = sample_record()
    lines = summary_lines(record, "reports/20240501T120000Z-region-outage")
    assert lines[:-1] == failure_lines(record)
    assert lines[0].startswith("SLO FAIL: errors while us-east is down [phase fault]")
    assert lines[-1] == (
        "FAILED: region-outage (exit code 1); report in reports/20240501T120000Z-region-outage"
    )


def test_passed_run_is_one_line() -> None:
    record = sample_record(status="passed", exit_code=0, slos=[], invariants=[])
    assert summary_lines(record, "reports/r") == [
        "PASSED: region-outage (exit code 0); report in reports/r"
    ]


def test_run_error_gets_its_first_line() -> None:
    record = sample_record(
        status="error",
        exit_code=3,
        slos=[],
        invariants=[],
        error="Docker unreachable\nstart the daemon",
    )
    assert summary_lines(record, "reports/r") == [
        "RUN ERROR: Docker unreachable",
        "ERROR: region-outage (exit code 3); report in reports/r",
    ]


def test_a_failed_invariant_says_it_in_its_own_terms_with_examples() -> None:
    lines = failure_lines(sample_record())
    assert (
        "INVARIANT FAIL: no_lost_writes: 3 acknowledged users missing from their shard; "
        "e.g. user 1042 (shard 2), user 1077 (shard 1), user 1101 (shard 1)"
    ) in lines
