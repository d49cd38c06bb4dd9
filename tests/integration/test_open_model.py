"""`load: {model: open}` on the real stack: the rate is kept (split over two load processes),
and a 2 s stall of both regions' entries shows in the client p99 instead of hiding behind users
who stopped sending. About 40 s of load in all.

    .venv/bin/pytest tests/integration/test_open_model.py -m integration -q

The stall is a `container_pause` of both entries at once, every user's way in: the edge links
still accept, the kernel holds each connection to a frozen HAProxy, and it answers them when
thawed, so the requests due meanwhile wait and none fails. The DNS server's checks cross the
same links, every 2 s with a 1 s timeout: one begun in the pause's first second times out and
takes that entry out of the answers until the next check. During the pause that sends nobody
anywhere better: the other entry is paused too, and with both entries down the record still
answers one of them (ifurlextup's backup selector picks among every group's addresses). After
it, until that next check, a user who asks may be sent to the other region, which serves it. And
users ask only once their answer's TTL (10 s) has run out. So the stall shows as latency, not
as errors, which is what the SLOs below hold it to.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import requests

from harness.stack.endpoints import Endpoints
from tests.integration.helpers import harness_cli

RATE = 100

STEADY = f"""
name: it-open-rate
load:
  model: open
  rate: {RATE}
  users: 1
  spawn_rate: 1
  duration: 20s
  geography: {{us-east: 70, us-west: 30}}
  tasks: {{read_user: 1}}
  seed: 11
# With --load-workers the workers' client counts reach the master's /metrics in Locust's
# reports, every 3 s: Prometheus sees the last seconds of a 20 s window late, so the client-side
# rate reads up to 15 % low there. The rate itself is checked on Locust's totals and on what the
# web tier received (below); the SLO only shows the load ran.
slos:
  - {{name: rate kept, phase: run, throughput_min_rps: {{min: {RATE * 0.75}, max: {RATE * 1.1}}}}}
  - {{name: no errors, phase: run, error_ratio: {{max: 0.01}}}}
"""

STALL = f"""
name: it-open-stall
load:
  model: open
  rate: {RATE}
  users: 1
  spawn_rate: 1
  duration: 20s
  geography: {{us-east: 70, us-west: 30}}
  tasks: {{read_user: 6, create_user: 1, submit_photo: 3}}
  seed: 12
faults:
  - {{type: container_pause, service: entry-us-east, at: 8s, duration: 2s}}
  - {{type: container_pause, service: entry-us-west, at: 8s, duration: 2s}}
slos:
  # About 200 of 2000 requests were due during the pause and answered after it: > 1 %.
  - {{name: the stall shows, phase: run, latency_p99_ms: {{min: 1500}}}}
  - {{name: nothing hidden, phase: run, throughput_min_rps: {{min: {RATE * 0.9}}}}}
  - {{name: no errors, phase: run, error_ratio: {{max: 0.01}}}}
invariants: [no_lost_writes]
"""


def run(tmp_path: Path, stack_name: str, text: str, *extra: str) -> tuple[Path, dict[str, Any]]:
    scenario = tmp_path / "open.yaml"
    scenario.write_text(text)
    reports = tmp_path / "reports"
    done = harness_cli(
        "run", str(scenario), "--stack", stack_name, "--reuse-stack", "--reports", str(reports),
        *extra,
    )  # fmt: skip
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    record = json.loads((run_dir / "results.json").read_text())
    assert done.returncode == 0, (done.stderr[-3000:], record.get("slos"))
    return run_dir, record


def observed(record: dict[str, Any], name: str) -> float:
    return float(next(s["observed"] for s in record["slos"] if s["name"] == name))


def test_the_open_model_keeps_its_rate_over_two_processes(
    stack: Endpoints, stack_name: str, tmp_path: Path
) -> None:
    run_dir, record = run(tmp_path, stack_name, STEADY, "--load-workers", "2")
    assert record["scenario"]["load"]["model"] == "open"
    assert json.loads((run_dir / "load-settings.json").read_text())["processes"] == 2
    assert abs(record["load_summary"]["total"]["Requests/s"] - RATE) <= RATE * 0.1
    # What the web tier received, over the middle 10 s of the load.
    start = record["load_started_at"]
    resp = requests.get(
        f"{stack.prometheus}/api/v1/query",
        params={"query": "sum(increase(web_requests_total[10s])) / 10", "time": start + 15},
        timeout=5,
    ).json()
    (sample,) = resp["data"]["result"]
    assert abs(float(sample["value"][1]) - RATE) <= RATE * 0.1, sample


def test_a_stall_shows_in_the_open_models_p99(
    stack: Endpoints, stack_name: str, tmp_path: Path
) -> None:
    _, record = run(tmp_path, stack_name, STALL)
    assert [f["status"] for f in record["faults"]] == ["removed", "removed"]
    p99 = observed(record, "the stall shows")
    # About the 2 s pause, not a closed loop's milliseconds; a little more, as the requests
    # queued meanwhile come in one burst at the unpause. Measured 2.34 s once the client's
    # buckets were dense between 1 and 5 s (with one 2.5-5 s bucket it read 3.3 and 4.5 s:
    # histogram_quantile interpolates inside a bucket).
    assert 1500 <= p99 <= 3500, p99
    # Prometheus, an observer of its own, saw both entries stall. It scrapes each one every
    # second and gives a scrape 900 ms: a scrape begun in the pause waits for its end or gives
    # up, and one of them began at least 0.5 s before the end of the 2 s pause.
    start = min(f["applied_at"] for f in record["faults"])
    end = max(f["removed_at"] for f in record["faults"])
    window = math.ceil(end - start) + 3
    resp = requests.get(
        f"{stack.prometheus}/api/v1/query",
        params={
            "query": f'max_over_time(scrape_duration_seconds{{job="entry"}}[{window}s])',
            "time": end + 2,
        },
        timeout=5,
    ).json()
    slowest = {r["metric"]["service"]: float(r["value"][1]) for r in resp["data"]["result"]}
    assert sorted(slowest) == ["entry-us-east", "entry-us-west"], slowest
    assert all(seconds >= 0.5 for seconds in slowest.values()), slowest
