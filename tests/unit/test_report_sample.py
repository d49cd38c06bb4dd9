"""The sample RunRecord (tests/samples.py) survives results.json and every renderer takes it."""

from __future__ import annotations

from pathlib import Path

from harness.record import load_record, save_record
from harness.report import render_html, render_junit, summary_lines
from tests.samples import sample_record


def test_sample_round_trips_through_results_json(tmp_path: Path) -> None:
    record = sample_record()
    save_record(record, tmp_path)
    assert load_record(tmp_path) == record


def test_every_renderer_accepts_the_sample() -> None:
    record = sample_record()
    assert "<html" in render_html(record)
    assert "<testsuite" in render_junit(record)
    assert summary_lines(record, "reports/x")[-1].startswith("FAILED")
