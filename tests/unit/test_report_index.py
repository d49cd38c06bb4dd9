"""reports/index.html: every run newest first, linked; broken results.json listed, not fatal."""

from __future__ import annotations

import os
from pathlib import Path

from harness.record import save_record
from harness.report import render_index, scan_runs
from harness.report.index import UNREADABLE
from tests.samples import T0, sample_record

EVIL = "<script>alert(1)</script>"


def make_runs(reports: Path) -> None:
    runs = [
        ("20240501T100000Z-old", sample_record(started_at=T0 - 7200, status="passed", exit_code=0)),
        ("20240501T120000Z-new", sample_record(started_at=T0, ended_at=T0 + 65)),
        (
            "20240501T110000Z-mid",
            sample_record(started_at=T0 - 3600, scenario_name=EVIL, status="error", exit_code=3),
        ),
    ]
    for name, record in runs:
        (reports / name).mkdir()
        save_record(record, reports / name)
        (reports / name / "report.html").write_text("<html></html>")
    broken = reports / "20240501T113000Z-broken"
    broken.mkdir()
    (broken / "results.json").write_text('{"run_id": ')
    os.utime(broken / "results.json", (T0 - 1800, T0 - 1800))
    (reports / "not-a-run").mkdir()  # no results.json: not listed
    (reports / "index.html").write_text("old index")


def test_runs_are_listed_newest_first_with_links(tmp_path: Path) -> None:
    make_runs(tmp_path)
    entries = scan_runs(tmp_path)
    assert [e.run_dir for e in entries] == [
        "20240501T120000Z-new",
        "20240501T113000Z-broken",
        "20240501T110000Z-mid",
        "20240501T100000Z-old",
    ]
    new = entries[0]
    assert (new.scenario, new.status, new.exit_code) == ("region-outage", "failed", 1)
    assert new.link == "20240501T120000Z-new/report.html"
    assert new.duration == "1 min 05 s"
    assert new.time.isoformat() == "2024-05-01T12:00:00+00:00"


def test_a_broken_results_json_is_listed_as_unreadable(tmp_path: Path) -> None:
    make_runs(tmp_path)
    broken = next(e for e in scan_runs(tmp_path) if e.run_dir.endswith("broken"))
    assert broken.status == UNREADABLE
    assert broken.exit_code is None
    assert broken.problem.startswith("results.json:")
    assert broken.link == "20240501T113000Z-broken/"  # no report.html to link to


def test_index_page_links_every_run_in_order_and_escapes(tmp_path: Path) -> None:
    make_runs(tmp_path)
    page = render_index(scan_runs(tmp_path))
    links = [
        '<a href="20240501T120000Z-new/report.html">',
        '<a href="20240501T113000Z-broken/">',
        '<a href="20240501T110000Z-mid/report.html">',
        '<a href="20240501T100000Z-old/report.html">',
    ]
    positions = [page.index(link) for link in links]
    assert positions == sorted(positions)
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for label in ("PASSED", "FAILED", "ERROR", "UNREADABLE"):
        assert f">{label}</span>" in page
    assert "2024-05-01 12:00:00" in page
    assert "<script" not in page and "<link" not in page


def test_odd_directory_names_are_url_quoted(tmp_path: Path) -> None:
    run = tmp_path / 'a run "quoted" #1'
    run.mkdir()
    save_record(sample_record(), run)
    entry = scan_runs(tmp_path)[0]
    assert entry.link == "a%20run%20%22quoted%22%20%231/report.html"


def test_no_runs(tmp_path: Path) -> None:
    assert scan_runs(tmp_path / "missing") == []
    assert "No runs yet" in render_index([])
