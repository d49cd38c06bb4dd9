"""`harness run` on the real stack: geo-weighted load, ledger, history, client metrics."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import requests

from harness.load.ledger import read_ledger
from harness.stack.endpoints import Endpoints
from tests.integration.helpers import harness_cli

SCENARIO = """
name: it-load
load:
  users: 20
  spawn_rate: 20
  duration: 20s
  geography: {us-east: 70, us-west: 30}
  tasks: {read_user: 6, create_user: 1, submit_photo: 3}
  seed: 3
slos:
  - {name: few errors, phase: run, error_ratio: {max: 0.05}}
invariants: [no_lost_writes]
"""


def run_dir_of(reports: Path) -> Path:
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    return run_dir


def test_a_short_run_drives_both_regions_in_proportion(
    stack: Endpoints, stack_name: str, tmp_path: Path
) -> None:
    scenario = tmp_path / "load.yaml"
    scenario.write_text(SCENARIO)
    reports = tmp_path / "reports"
    done = harness_cli(
        "run", str(scenario), "--stack", stack_name, "--reuse-stack", "--reports", str(reports)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = run_dir_of(reports)

    # Locust's per-second history is kept, with traffic from both regions in proportion.
    with (run_dir / "locust_stats.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["Name"] != "Aggregated"]
    by_region: dict[str, int] = {}
    for row in rows:
        region = row["Name"].split()[0]
        by_region[region] = by_region.get(region, 0) + int(row["Request Count"])
    total = sum(by_region.values())
    assert total > 100
    assert abs(by_region["us-east"] / total - 0.70) <= 0.05, by_region
    history = (run_dir / "locust_stats_history.csv").read_text().splitlines()
    assert len(history) > 10

    # The ledger holds the acknowledged writes, and they are on their shards.
    ledger = read_ledger(run_dir)
    assert len(ledger.users) > 5 and len(ledger.jobs) > 5
    record = json.loads((run_dir / "results.json").read_text())
    assert record["status"] == "passed"
    (inv,) = record["invariants"]
    assert inv["name"] == "no_lost_writes" and inv["acknowledged"] == len(ledger.users)

    # Prometheus scraped the load generator's client-side metrics, by home region. Asked at
    # the end of the load: once the run is over its endpoint is gone and the series are stale.
    end = next(p["end"] for p in record["phases"] if p["name"] == "run")
    resp = requests.get(
        f"{stack.prometheus}/api/v1/query",
        params={"query": "sum by (region) (harness_client_requests_total)", "time": end - 1},
        timeout=5,
    ).json()
    regions = {r["metric"]["region"] for r in resp["data"]["result"]}
    assert regions == {"us-east", "us-west"}

    # Every output of a run is there, and the stack of `up` was not removed.
    for name in ("report.html", "junit.xml", "results.json", "load-settings.json"):
        assert (run_dir / name).exists(), name
    assert (reports / "index.html").exists()
    for entry in stack.entries.values():
        assert requests.get(f"{entry}/users/1", timeout=5).status_code in (200, 404)


def test_load_workers_spread_the_load_over_processes(
    stack: Endpoints, stack_name: str, tmp_path: Path
) -> None:
    scenario = tmp_path / "load.yaml"
    scenario.write_text(SCENARIO.replace("duration: 20s", "duration: 15s"))
    reports = tmp_path / "reports"
    done = harness_cli(
        "run", str(scenario), "--stack", stack_name, "--reuse-stack", "--reports", str(reports),
        "--load-workers", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = run_dir_of(reports)
    assert len(list((run_dir / "ledger").glob("*.jsonl"))) == 2  # one ledger per load process
    record = json.loads((run_dir / "results.json").read_text())
    end = next(p["end"] for p in record["phases"] if p["name"] == "run")
    resp = requests.get(
        f"{stack.prometheus}/api/v1/query",
        params={"query": "sum by (region) (harness_client_users)", "time": end - 1},
        timeout=5,
    ).json()
    users = {r["metric"]["region"]: float(r["value"][1]) for r in resp["data"]["result"]}
    assert users == {"us-east": 14.0, "us-west": 6.0}  # the master merged both workers' users
