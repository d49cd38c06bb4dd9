"""The real Locust subprocess on the harness's locustfile, for about 5 s, against a loopback
stand-in for the geo router (harness.load.fake_target). No Docker, no network."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.load.ledger import read_ledger
from harness.load.runner import start_load
from harness.load.settings import LoadSettings


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:
        return str(response.read().decode())


@pytest.fixture
def target() -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "harness.load.fake_target"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        yield f"http://127.0.0.1:{int(server.stdout.readline())}"
    finally:
        server.kill()
        server.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(90)
def test_locust_run_against_a_loopback_target(target: str, tmp_path: Path) -> None:
    settings = LoadSettings(
        host=target,
        users=20,
        spawn_rate=20,
        duration_s=5,
        geography={"us-east": 70, "us-west": 30},
        tasks={"read_user": 6, "create_user": 1, "submit_photo": 3, "read_job": 1},
        seed=7,
        metrics_host="127.0.0.1",
        metrics_port=free_port(),
        run_dir=str(tmp_path),
        think_time_s=(0.05, 0.1),
    )
    metrics_url = f"http://{settings.metrics_host}:{settings.metrics_port}/metrics"
    scraped = ""
    with start_load(settings) as load:
        deadline = time.monotonic() + 20
        while load.running and time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                scraped = get(metrics_url)
            except OSError:
                continue
            if 'harness_client_requests_total{region="us-west"' in scraped:
                break
        code = load.wait(timeout_s=40)
        progress = load.progress()
    assert code == 0, (tmp_path / "locust.log").read_text()
    assert "harness_client_requests_total" in scraped
    assert 'harness_client_users{region="us-east"} 14.0' in scraped

    history = (tmp_path / "locust_stats_history.csv").read_text().splitlines()
    assert len(history) > 5
    assert progress.requests_total > 0 and set(progress.regions) == {"us-east", "us-west"}

    by_home = json.loads(get(f"{target}/_counts"))
    east_share = by_home["us-east"] / (by_home["us-east"] + by_home["us-west"])
    assert abs(east_share - 0.70) <= 0.05, by_home

    created = json.loads(get(f"{target}/_created"))
    ledger = read_ledger(tmp_path)
    assert ledger.skipped_lines == 0
    # Every answer the stack sent was received (Locust stops users gracefully), so every
    # acknowledged write is in the ledger; none is there that the target did not make.
    # Every created user is read back at once (read_your_writes), and found.
    assert ledger.counts == {
        "user": created["users"],
        "job": created["jobs"],
        "readback": created["users"],
        "unknown": 0,  # a healthy loopback target answers every write
    }
    assert {r.status for r in ledger.readbacks} == {200}
    assert {u.home for u in ledger.users} == {"us-east", "us-west"}
    assert all(u.served == u.home and u.shard == u.id % 4 for u in ledger.users)
