"""The real Locust subprocess against the loopback stand-in (harness.load.fake_target) made
to stall for 2 s: the open model keeps its rate and shows the stall in its latency; requests
past the timeout are failures and writes with an unseen outcome go to the ledger. Each run is
at most 6 s of load, on 127.0.0.1 only."""

from __future__ import annotations

import csv
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness.load.ledger import read_ledger
from harness.load.runner import start_load
from harness.load.settings import LoadSettings
from tests.unit import test_load_locust_process as locust_process

free_port, get = locust_process.free_port, locust_process.get
target = locust_process.target  # the fixture starting the loopback stand-in


def settings(host: str, run_dir: Path, **overrides: Any) -> LoadSettings:
    values: dict[str, Any] = {
        "host": host,
        "users": 20,
        "spawn_rate": 20,
        "duration_s": 6,
        "geography": {"us-east": 70, "us-west": 30},
        "tasks": {"read_user": 1},
        "seed": 5,
        "metrics_host": "127.0.0.1",
        "metrics_port": free_port(),
        "run_dir": str(run_dir),
        "think_time_s": (0.05, 0.1),
        "request_timeout_s": 5.0,
    }
    return LoadSettings(**(values | overrides))


def stall(host: str, seconds: float) -> None:
    request = urllib.request.Request(f"{host}/_stall?s={seconds}", method="POST")
    with urllib.request.urlopen(request, timeout=2) as response:
        response.read()


def requests_seen(host: str) -> int:
    return sum(v for k, v in json.loads(get(f"{host}/_counts")).items() if k != "none")


def first_requests(host: str, timeout_s: float = 20.0) -> float:
    """When the target saw the load's first requests (Locust takes a while to start)."""
    deadline = time.monotonic() + timeout_s
    while requests_seen(host) == 0:
        assert time.monotonic() < deadline, "no request reached the target"
        time.sleep(0.05)
    return time.monotonic()


def run(
    load_settings: LoadSettings, *, stall_at_s: float, stall_s: float, scrape_after_s: float = 0
) -> dict[str, Any]:
    """The load with the target stalled `stall_at_s` after the first requests, for `stall_s`;
    with `scrape_after_s`, the client metrics are scraped that long after the stall began."""
    host = load_settings.host
    scraped = ""
    with start_load(load_settings) as load:
        began = first_requests(host)
        time.sleep(0.5)  # the target's counts from here to the stall are the steady rate
        first, t1 = requests_seen(host), time.monotonic()
        time.sleep(max(0.0, began + stall_at_s - time.monotonic()))
        second, t2 = requests_seen(host), time.monotonic()
        stall(host, stall_s)
        if scrape_after_s:
            time.sleep(scrape_after_s)
            metrics = f"http://{load_settings.metrics_host}:{load_settings.metrics_port}/metrics"
            scraped = get(metrics)
        code = load.wait(timeout_s=40)
    run_dir = Path(load_settings.run_dir)
    with (run_dir / "locust_stats.csv").open() as f:
        stats = {row["Name"]: row for row in csv.DictReader(f)}
    with (run_dir / "locust_failures.csv").open() as f:
        failed = [(row["Method"], row["Name"], row["Error"]) for row in csv.DictReader(f)]
    return {
        "code": code,
        "rate": (second - first) / (t2 - t1),
        "total": stats["Aggregated"],
        "failures": [error for _, _, error in failed],
        "failed": failed,  # (method, stats name, error)
        "ledger": read_ledger(run_dir),
        "scraped": scraped,
    }


@pytest.mark.timeout(90)
def test_the_open_model_keeps_its_rate_and_shows_a_stall_in_p99(
    target: str, tmp_path: Path
) -> None:
    open_settings = settings(target, tmp_path, model="open", rate=150, max_in_flight=600)
    result = run(open_settings, stall_at_s=2.5, stall_s=2.0)
    assert result["code"] == 0, (tmp_path / "locust.log").read_text()
    assert abs(result["rate"] - 150) <= 15, result["rate"]
    total = result["total"]
    # About 300 iterations were due during the stall and waited up to 2 s: well over 1 %.
    assert float(total["99%"]) >= 1500, total
    assert int(total["Failure Count"]) == 0 and result["failures"] == []
    assert json.loads((tmp_path / "load-settings.json").read_text())["model"] == "open"


@pytest.mark.timeout(90)
def test_iterations_beyond_max_in_flight_are_failures_timed_as_timeouts(
    target: str, tmp_path: Path
) -> None:
    open_settings = settings(
        target, tmp_path, model="open", rate=100, max_in_flight=20, request_timeout_s=3.0
    )
    result = run(open_settings, stall_at_s=2.0, stall_s=2.0, scrape_after_s=1.5)
    assert result["code"] == 1  # Locust's code for "some requests failed"
    total = result["total"]
    # 20 in flight, then about 180 due during the stall found no free slot.
    assert 100 <= int(total["Failure Count"]) <= 220, total
    assert any(e.startswith("DroppedIteration('dropped: 20 iterations") for e in result["failures"])
    assert float(total["Max Response Time"]) >= 2900  # a drop counts as a 3 s timeout
    # The client metrics count the drops too (errors served by no region), as they happen.
    errors = [
        float(line.rsplit(" ", 1)[1])
        for line in result["scraped"].splitlines()
        if line.startswith("harness_client_requests_total{")
        and 'result="error"' in line
        and 'served_region="none"' in line
    ]
    assert sum(errors) >= 50, result["scraped"]


@pytest.mark.timeout(90)
def test_the_closed_model_times_out_and_ledgers_unseen_writes(target: str, tmp_path: Path) -> None:
    closed = settings(
        target,
        tmp_path,
        request_timeout_s=0.5,
        tasks={"read_user": 1, "create_user": 2, "submit_photo": 2},
    )
    result = run(closed, stall_at_s=2.0, stall_s=2.0)
    assert result["code"] == 1
    assert int(result["total"]["Failure Count"]) >= 10, result["total"]
    assert any(e.startswith("CatchResponseError('no answer (") for e in result["failures"])
    # Reads are judged too (as they are counted, harness/load/locustfile.py's JudgedEvent):
    # a read that timed out is a failure of its route, the status expected named.
    timed_out = {
        (method, name.split(" ", 1)[1])
        for method, name, error in result["failed"]
        if error.startswith("CatchResponseError('no answer (")
    }
    assert ("GET", "/users/{id}") in timed_out, result["failed"]
    assert any(e.endswith("expected 200')") for m, _, e in result["failed"] if m == "GET"), result[
        "failed"
    ]
    ledger = result["ledger"]
    assert ledger.unknowns, ledger.counts
    assert {u.status for u in ledger.unknowns} == {0}
    assert {u.op for u in ledger.unknowns} <= {"user", "job"}
    assert all((u.user_id is None) == (u.op == "user") for u in ledger.unknowns)


@pytest.mark.timeout(90)
def test_iterations_still_running_when_the_load_stops_are_counted(
    target: str, tmp_path: Path
) -> None:
    # The target holds every answer from 1.5 s on, past the end of the 3 s load and past
    # Locust's 5 s stop timeout (the request timeout is longer): those iterations are killed.
    open_settings = settings(
        target,
        tmp_path,
        model="open",
        rate=50,
        max_in_flight=500,
        duration_s=3,
        request_timeout_s=20.0,
    )
    result = run(open_settings, stall_at_s=1.5, stall_s=30.0)
    assert result["code"] == 1
    cut = [e for e in result["failures"] if "cut off" in e]
    assert cut, result["failures"]
    # About 1.5 s x 50/s were cut off (locust_stats.csv misses its last second, hence less).
    assert int(result["total"]["Failure Count"]) >= 30, result["total"]
