from __future__ import annotations

import pytest

from harness.load.progress import merged_quantile, parse_history

HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size"
)


def row(ts: int, method: str, name: str, rps: float, fps: float, p95: int, total: int) -> str:
    pct = f"{p95 // 2},{p95 // 2},{p95 // 2},{p95 // 2},{p95},{p95},{p95},{p95},{p95},{p95},{p95}"
    return f"{ts},10,{method},{name},{rps},{fps},{pct},{total},0,1,1,1,{p95},20"


def history() -> str:
    lines = [HEADER, row(100, "", "Aggregated", 0, 0, 0, 0)]
    for ts in (101, 102):
        lines += [
            row(ts, "GET", "us-east /users/{id}", 70, 7, 20, 700),
            row(ts, "POST", "us-east /users", 10, 0, 300, 100),
            row(ts, "GET", "us-west /users/{id}", 30, 0, 40, 300),
            row(ts, "", "Aggregated", 110, 7, 40, 1100),
        ]
    return "\n".join(lines) + "\n"


def test_latest_complete_second_gives_overall_and_per_region_figures():
    text = history()
    progress = parse_history(text[:4096], text)
    assert progress is not None
    assert progress.elapsed_s == 2.0
    assert progress.users == 10
    assert progress.rps == 110
    assert progress.failures_pct == pytest.approx(100 * 7 / 110)
    assert progress.p95_ms == 40
    assert progress.requests_total == 1100
    east, west = progress.regions["us-east"], progress.regions["us-west"]
    assert east.rps == 80 and east.failures_pct == pytest.approx(100 * 7 / 80)
    assert west.rps == 30 and west.p95_ms == 40
    assert east.p95_ms == 150  # 70 req/s all <= 20 ms, 10 req/s 80% <= 150 ms: 97.5% <= 150


def test_a_second_still_being_written_is_ignored():
    text = history()
    cut = text[: text.rindex("102,10,,Aggregated")]  # last second lacks its Aggregated row
    progress = parse_history(text[:4096], cut + "102,10,GET,us-e")
    assert progress is not None and progress.elapsed_s == 1.0


def test_no_complete_second_yet():
    assert parse_history(HEADER + "\n", "") is None
    assert parse_history("", "") is None


@pytest.mark.parametrize(
    ("dists", "expected"),
    [
        ([(1.0, {0.5: 10, 0.95: 20, 1.0: 30})], 20),
        ([(9.0, {0.5: 10, 0.95: 20, 1.0: 20}), (1.0, {0.5: 500, 0.95: 900, 1.0: 900})], 500),
        ([(99.0, {0.5: 10, 0.99: 20, 1.0: 20}), (1.0, {0.5: 500, 1.0: 900})], 20),
        ([(0.0, {0.95: 5}), (0.0, {0.95: 7})], 7),  # no current rate: entries weigh alike
        ([], None),
    ],
)
def test_merged_quantile(dists, expected):
    assert merged_quantile(dists, 0.95) == expected
