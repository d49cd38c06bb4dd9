"""Shard hotspot on the real stack: the hot shard's request rate and latency rise, others don't."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from harness.stack.endpoints import Endpoints
from tests.integration.helpers import harness_cli

SCENARIO = """
name: it-hotspot
load:
  users: 20
  spawn_rate: 20
  duration: 40s
  geography: {us-east: 50, us-west: 50}
  tasks: {read_user: 6, create_user: 1, submit_photo: 2}
faults:
  - type: shard_hotspot
    shard: 2
    share: 0.8
    celebrities: 3
    latency_ms: 60
    at: 15s
    duration: 20s
slos:  # what the test checks below, as the harness judges it (+ 60 ms on shard 2's links)
  - {name: shard 2 is hot, phase: fault, server_latency_p95_ms: {tier: shard, shard: 2, min: 50}}
"""


def per_shard(prometheus: str, promql: str, at: float) -> dict[str, float]:
    resp = requests.get(
        f"{prometheus}/api/v1/query", params={"query": promql, "time": at}, timeout=5
    ).json()
    return {r["metric"]["shard"]: float(r["value"][1]) for r in resp["data"]["result"]}


def test_hot_shard_takes_the_traffic_and_slows_while_the_others_do_not(
    stack: Endpoints, stack_name: str, tmp_path: Path
) -> None:
    (tmp_path / "s.yaml").write_text(SCENARIO)
    done = harness_cli(
        "run", str(tmp_path / "s.yaml"), "--stack", stack_name, "--reuse-stack",
        "--reports", str(tmp_path / "r"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (results,) = (tmp_path / "r").glob("*/results.json")
    phases = {p["name"]: p for p in json.loads(results.read_text())["phases"]}
    steady, fault = phases["steady"], phases["fault"]

    def in_phase(p: dict, promql: str) -> dict[str, float]:
        """`promql` per shard over phase `p`, its `{w}` the window without the phase's edges."""
        w = int(p["end"] - p["start"]) - 2
        return per_shard(stack.prometheus, promql.format(w=w), p["end"] - 1)

    def rate(p: dict) -> dict[str, float]:
        return in_phase(p, "sum by (shard) (rate(web_db_seconds_count[{w}s]))")

    def p95(p: dict) -> dict[str, float]:
        q = "histogram_quantile(0.95, sum by (shard, le) (rate(web_db_seconds_bucket[{w}s])))"
        return in_phase(p, q)

    before, during = rate(steady), rate(fault)
    share_before = before["2"] / sum(before.values())
    share_during = during["2"] / sum(during.values())
    assert share_during > share_before + 0.25, (before, during)
    for shard in ("0", "1", "3"):
        assert during[shard] < before[shard] * 1.2, (shard, before, during)

    lat_before, lat_during = p95(steady), p95(fault)
    assert lat_during["2"] - lat_before["2"] > 0.05, (lat_before, lat_during)  # + 60 ms toxic

    # The others keep their latency. Compared on the reads of the region's own copy, by their
    # mean: the celebrities take most reads off the other shards, so their all-query p95 moves
    # to their writes (which pay the WAN's round trips) even when nothing slows them, and a p95
    # of the few samples left jumps between the coarse histogram buckets (0.1, 0.25, 0.5 s).
    def mean_read(p: dict) -> dict[str, float]:
        return in_phase(
            p,
            'sum by (shard) (rate(web_db_seconds_sum{{role="local_copy"}}[{w}s]))'
            ' / sum by (shard) (rate(web_db_seconds_count{{role="local_copy"}}[{w}s]))',
        )

    read_before, read_during = mean_read(steady), mean_read(fault)
    hot_rise = read_during["2"] - read_before["2"]
    assert hot_rise > 0.05, (read_before, read_during)  # one round trip through the toxic
    for shard in ("0", "1", "3"):
        rise = read_during[shard] - read_before[shard]
        assert rise < hot_rise / 2, (shard, read_before, read_during)
