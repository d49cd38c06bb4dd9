"""report.html: content, escaping of every untrusted string, offline-only, the charts' data."""

from __future__ import annotations

import base64
import gzip
import json
import math
import re

import pytest
from plotly.offline import get_plotlyjs

from harness.record import Event, InvariantResult, Series, SloResult
from harness.report import failure_lines, render_html
from harness.slo.charts import CHARTS
from tests.samples import T0, sample_record

EVIL = "<script>alert(1)</script>"


def chart_data(page: str) -> dict[str, dict]:
    match = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page, re.S)
    assert match, "no chart data element"
    return json.loads(match.group(1))


def packed_plotly(page: str) -> list[str]:
    """The payloads of the page's gzipped plotly.js elements."""
    return re.findall(r'<script id="plotly-gz" type="application/gzip;base64">(.*?)</script>', page)


def without_plotly(page: str) -> str:
    return re.sub(r'(<script id="plotly-gz"[^>]*>).*?</script>', r"\1</script>", page)


def evil_record():
    record = sample_record(
        scenario_name=EVIL,
        scenario={"name": EVIL, "description": EVIL, "load": {"users": 1}},
        scenario_file=f"scenarios/{EVIL}.yaml",
        error=f"docker said {EVIL}",
        log_errors={EVIL: [f"ERROR {EVIL}"]},
        load_summary={EVIL: {EVIL: EVIL}},
        stack={"name": EVIL, "images": {EVIL: EVIL}},
        events=[Event(t=T0 + 1, kind=EVIL, message=EVIL)],
        invariants=[
            InvariantResult(name=EVIL, verdict="fail", lost=1, detail=EVIL, lost_examples=[EVIL])
        ],
    )
    record.slos.append(
        SloResult(name=EVIL, phase=EVIL, objective=EVIL, promql=EVIL, verdict="error", error=EVIL)
    )
    record.series["requests_by_region"].append(
        Series(
            labels={"region": f"</script>{EVIL}<a href='https://x'>x</a>"},
            points=[(T0, 1.0), (T0 + 5, 2.0)],
        )
    )
    record.faults[0].target = EVIL
    return record


def test_page_shows_the_verdict_exit_code_and_failures() -> None:
    page = render_html(sample_record())
    assert 'class="banner failed"' in page
    assert "FAILED" in page
    assert "exit code 1" in page
    for line in failure_lines(sample_record()):
        assert line in page


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("passed", "PASSED"),
        ("failed", "FAILED"),
        ("error", "ERROR"),
        ("interrupted", "INTERRUPTED"),
    ],
)
def test_banner_names_each_status(status: str, label: str) -> None:
    page = render_html(sample_record(status=status))
    assert f'<span class="verdict">{label}</span>' in page


def test_every_slo_and_invariant_has_a_row() -> None:
    record = sample_record()
    page = render_html(record)
    for slo in record.slos:
        assert f"<td>{slo.name}</td>" in page
    for inv in record.invariants:
        assert f"<td>{inv.name}</td>" in page
    assert "query returned no data: check the metric name" in page
    assert "user 1042 (shard 2)" in page


def test_an_slo_read_from_the_ledger_shows_what_it_reads_instead_of_promql() -> None:
    record = sample_record()
    source = "ledger: acknowledged writes (users, jobs) of each shard by commit time"
    record.slos.append(
        SloResult(
            name="write RTO",
            phase="run",
            objective="write_unavailable_s",
            promql=source,
            source="ledger",
            observed=14.2,
            max=30,
            verdict="pass",
            detail="shard 0: 14.2 s; shard 1: 0.4 s",
        )
    )
    page = render_html(record)
    assert f'<td>{source}<div class="muted">write_unavailable_s (from the ledger)</div>' in page
    assert f"<code>{source}</code>" not in page
    assert "shard 0: 14.2 s; shard 1: 0.4 s" in page
    assert "<code>sum(rate(worker_jobs_failed_total[60s]))</code>" in page  # PromQL as before


def test_sections_appear_in_order() -> None:
    page = render_html(sample_record())
    ids = [
        "verdict",
        "scenario",
        "charts",
        "faults",
        "slos",
        "invariants",
        "load",
        "events",
        "steps",
        "logs",
        "environment",
    ]
    positions = [page.index(f'id="{i}"') for i in ids]
    assert positions == sorted(positions)


def test_scenario_environment_and_logs_are_shown() -> None:
    page = render_html(sample_record())
    assert "scenarios/region-outage.yaml" in page
    assert "geography:" in page  # the scenario as YAML
    assert "sha256:4d5e6f" in page  # image ids
    assert "chaos-3f9c" in page
    assert "2024-05-01 12:00:00 UTC" in page
    assert "<summary>web-us-east-1" in page
    assert "ERROR connection refused: shard-2:5432" in page
    assert "<th>p95_ms</th>" in page  # nested load summary as a sub-table


def test_untrusted_strings_are_escaped_everywhere() -> None:
    page = render_html(evil_record())
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<a href='https://x'>" not in page
    # only our own four script elements open and close (error recorder, plotly, data, draw)
    assert page.count("<script") == 4
    assert len(re.findall(r"</script", page, re.IGNORECASE)) == 4


def test_chart_data_cannot_break_out_of_its_script() -> None:
    page = render_html(evil_record())
    raw = re.search(r'type="application/json">(.*?)</script>', page, re.S)
    assert raw and "<" not in raw.group(1) and ">" not in raw.group(1)
    names = [t["name"] for t in chart_data(page)["chart-0"]["data"]]
    # plotly renders a subset of HTML in names: they arrive entity-escaped, shown as text
    assert any(n.startswith("&lt;/script&gt;&lt;script&gt;") for n in names)
    notes = [a["text"] for a in chart_data(page)["chart-0"]["layout"]["annotations"]]
    assert f"region_outage {EVIL}".replace("<", "&lt;").replace(">", "&gt;") in notes


def test_page_fetches_nothing() -> None:
    page = render_html(sample_record())
    rest = without_plotly(page)
    assert not re.search(r"<script[^>]*\bsrc\s*=", rest, re.IGNORECASE)
    assert not re.search(r"<link\b", rest, re.IGNORECASE)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest, re.IGNORECASE)
    assert not re.search(r"@import|url\(", rest, re.IGNORECASE)


def test_plotly_is_inlined_exactly_once_gzipped_and_unpacks_to_plotly_js() -> None:
    page = render_html(sample_record())
    (payload,) = packed_plotly(page)
    assert gzip.decompress(base64.b64decode(payload)).decode("utf-8") == get_plotlyjs()
    assert len(payload) < len(get_plotlyjs()) / 2
    assert "DecompressionStream" in page and "Plotly.newPlot" in page


def test_a_chart_without_series_says_no_data() -> None:
    page = render_html(sample_record())
    empty = next(c for c in CHARTS if c.key == "faults_active")
    section = page[page.index(empty.title) :].split('<div class="chart">')[0]
    assert '<div class="nodata">no data</div>' in section
    drawn = chart_data(page)
    assert len(drawn) == len(CHARTS) - 1
    assert f"chart-{CHARTS.index(empty)}" not in drawn


def test_a_run_without_any_series_skips_plotly() -> None:
    page = render_html(sample_record(series={}))
    assert page.count('<div class="nodata">no data</div>') == len(CHARTS)
    assert packed_plotly(page) == [] and "DecompressionStream" not in page


def test_charts_use_offsets_from_the_load_start_and_mark_faults_and_phases() -> None:
    figure = chart_data(render_html(sample_record()))["chart-0"]
    assert figure["data"][0]["x"][0] == 0
    assert figure["data"][0]["x"][-1] == 180
    rects = [s for s in figure["layout"]["shapes"] if s["type"] == "rect"]
    assert [(r["x0"], r["x1"]) for r in rects] == [pytest.approx((60.4, 120.2))]
    lines = [s["x0"] for s in figure["layout"]["shapes"] if s["type"] == "line"]
    assert lines == pytest.approx([0, 60.4, 120.2, 180])
    notes = [a["text"] for a in figure["layout"]["annotations"]]
    assert notes == ["region_outage us-east", "steady", "fault", "recovery"]


def test_legend_names_follow_the_chart_templates() -> None:
    drawn = chart_data(render_html(sample_record()))
    served = CHARTS.index(next(c for c in CHARTS if c.key == "served_by_region"))
    queue = CHARTS.index(next(c for c in CHARTS if c.key == "queue"))
    assert [t["name"] for t in drawn[f"chart-{served}"]["data"]] == [
        "served by us-east",
        "served by us-west",
    ]
    assert drawn[f"chart-{queue}"]["data"][0]["name"] == "backlog (not yet delivered)"


def test_nan_points_become_gaps() -> None:
    record = sample_record()
    record.series["error_ratio"][0].points[0] = (T0, math.nan)
    figure = chart_data(render_html(record))[
        f"chart-{[c.key for c in CHARTS].index('error_ratio')}"
    ]
    assert figure["data"][0]["y"][0] is None


def test_an_unremoved_fault_is_shaded_until_the_load_ended() -> None:
    record = sample_record()
    record.faults[0].removed_at = None
    rect = next(s for s in chart_data(render_html(record))["chart-0"]["layout"]["shapes"])
    assert rect["x1"] == pytest.approx(180)


def test_a_faults_band_starts_at_its_first_effect() -> None:
    record = sample_record()
    applied = record.faults[0].applied_at
    assert applied is not None
    record.faults[0].first_effect_at = applied - 2.0
    rect = next(s for s in chart_data(render_html(record))["chart-0"]["layout"]["shapes"])
    assert (rect["x0"], rect["x1"]) == (pytest.approx(58.4), pytest.approx(120.2))


def test_the_faults_table_shows_each_time_of_the_window_and_the_effects() -> None:
    record = sample_record()
    fault = record.faults[0]
    assert fault.applied_at is not None and fault.removed_at is not None
    fault.first_effect_at = fault.applied_at - 2.0
    fault.removal_started_at = fault.removed_at - 1.0
    fault.effects = {"container_stopped": 3, "container_started": 3}
    page = render_html(record)
    table = page[page.index('id="faults"') : page.index('id="slos"')]
    for shown in ("+58.4 s", "+60.4 s", "+119.2 s", "+120.2 s", "container_stopped 3"):
        assert shown in table


def _drawn(record, key: str) -> dict:
    index = CHARTS.index(next(c for c in CHARTS if c.key == key))
    return chart_data(render_html(record))[f"chart-{index}"]


def test_the_two_data_centres_charts_are_drawn_with_the_fault_windows() -> None:
    record = sample_record()
    for key in ("db_errors", "replication_lag", "shard_primary"):
        figure = _drawn(record, key)
        rects = [s for s in figure["layout"]["shapes"] if s["type"] == "rect"]
        assert [(r["x0"], r["x1"]) for r in rects] == [pytest.approx((60.4, 120.2))]
    names = [t["name"] for t in _drawn(record, "db_errors")["data"]]
    assert names == ["shard 0", "shard 1", "shard 2", "shard 3"]
    lag = _drawn(record, "replication_lag")["data"][0]
    assert 55 in lag["x"] and 60 not in lag["x"]  # no standby while us-east was cut off
    # and the line does not bridge that: a null between the last point before and the first after
    gap = lag["x"].index(87.5)
    assert lag["y"][gap] is None and lag["x"][gap - 1 : gap + 2] == [55, 87.5, 120]


def test_where_each_primary_is_is_a_lane_per_shard_with_a_bar_per_region() -> None:
    figure = _drawn(sample_record(), "shard_primary")
    axis = figure["layout"]["yaxis"]
    assert axis["ticktext"] == ["shard 0", "shard 1", "shard 2", "shard 3"]
    assert axis["tickvals"] == [0, 1, 2, 3] and axis["range"] == [3.5, -0.5]  # shard 0 on top
    traces = {t["name"]: t for t in figure["data"]}
    assert list(traces)[:2] == ["shard 0 primary in us-east", "shard 0 primary in us-west"]
    east, west = traces["shard 0 primary in us-east"], traces["shard 0 primary in us-west"]
    # a bar only while the node is the primary: us-east's until it was fenced, then us-west's
    at = dict(zip(east["x"], east["y"], strict=True))
    assert at[60] == pytest.approx(-0.15) and at[65] is None
    at = dict(zip(west["x"], west["y"], strict=True))
    assert at[70] is None and at[75] == pytest.approx(0.15) and at[180] == pytest.approx(0.15)
    assert east["line"]["color"] != west["line"]["color"]
    assert traces["shard 2 primary in us-east"]["line"]["color"] == east["line"]["color"]
    assert set(traces["shard 3 primary in us-west"]["y"]) == {3.15}  # primary all along


def test_a_primary_bar_never_bridges_missing_samples() -> None:
    record = sample_record()
    [east0] = [
        s for s in record.series["shard_primary"] if s.labels["service"] == "shard-0-us-east"
    ]
    east0.points = [(T0 + s, 1.0) for s in (*range(0, 20), *range(40, 60))]
    east = _drawn(record, "shard_primary")["data"][0]
    gap = east["x"].index(29.5)  # inserted between the last point before it and the first after
    assert east["y"][gap] is None
    assert east["y"][gap - 1] is not None and east["y"][gap + 1] is not None


def test_two_primaries_at_once_are_two_bars_in_the_lane() -> None:
    record = sample_record()
    for series in record.series["shard_primary"]:
        if series.labels["shard"] == "1":
            series.points = [(T0 + s, 1.0) for s in range(0, 181, 5)]
    traces = {t["name"]: t for t in _drawn(record, "shard_primary")["data"]}
    ys = [traces[f"shard 1 primary in {r}"]["y"][0] for r in ("us-east", "us-west")]
    assert ys == [pytest.approx(0.85), pytest.approx(1.15)]


def test_a_chart_says_how_to_read_it() -> None:
    page = render_html(sample_record())
    section = page[page.index("Where each shard&#39;s primary is") :].split('<div class="chart">')[
        0
    ]
    assert "Two bars at once: two primaries (split brain)" in section


def test_the_failover_managers_events_are_in_the_event_list() -> None:
    page = render_html(sample_record())
    events = page[page.index('id="events"') : page.index('id="steps"')]
    assert "<code>demoted</code>" in events and "<code>promoted</code>" in events
    assert "+75.0 s" in events and "shard 0: shard-0-us-west promoted" in events


def test_a_record_from_before_the_two_data_centres_still_renders() -> None:
    # results.json of an older harness: none of the new charts' series, no failover events
    record = sample_record()
    record.series = {
        k: v
        for k, v in record.series.items()
        if k not in ("db_errors", "replication_lag", "shard_primary")
    }
    record.events = [e for e in record.events if e.kind not in ("promoted", "demoted")]
    page = render_html(record)
    for title in ("Where each shard", "Replication lag by shard", "Failed shard queries"):
        section = page[page.index(title) :].split('<div class="chart">')[0]
        assert '<div class="nodata">no data</div>' in section
    assert "<code>promoted</code>" not in page
