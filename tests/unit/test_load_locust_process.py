"""The real Locust subprocess on the harness's locustfile, for a few seconds, against a loopback
stand-in for the stack (harness.load.fake_target), and against the same stand-in on both
regions' entry addresses with an in-process DNS server (tests.fakes.FakeDnsServer). No
Docker, no network."""

from __future__ import annotations

import csv
import json
import re
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
from harness.vocabulary import CLIENT_SUBNETS, ENTRY_ADDRESSES, REGIONS, SERVICE_NAME
from tests.fakes import FakeDnsServer


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
    # Pre-created at 0: the series an outage would create (no serving region, an error).
    assert (
        'harness_client_requests_total{region="us-west",result="error",route="/jobs/{id}",'
        'served_region="none"} 0.0' in scraped
    )
    # The serving region comes from each answer's X-Served-Region (the stand-in names the
    # request's home region there): us-east's answered reads were all served by us-east.
    served = re.search(
        r'harness_client_requests_total\{region="us-east",result="ok",route="/users/\{id\}",'
        r'served_region="(\S+?)"\} ([1-9]\S*)',
        scraped,
    )
    assert served is not None and served.group(1) == "us-east", scraped
    assert (
        'harness_client_requests_total{region="us-east",result="ok",route="/users/{id}",'
        'served_region="none"} 0.0' in scraped
    )

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
        "unknown": 0,
    }
    assert {r.status for r in ledger.readbacks} == {200}
    assert {u.home for u in ledger.users} == {"us-east", "us-west"}
    assert all(u.served == u.home and u.shard == u.id % 4 for u in ledger.users)


EAST, WEST = ENTRY_ADDRESSES["us-east"], ENTRY_ADDRESSES["us-west"]


@pytest.fixture
def entries() -> Iterator[int]:
    """The stand-in listening on both regions' entry addresses at one port: that port."""
    server = subprocess.Popen(
        [sys.executable, "-m", "harness.load.fake_target", "0", EAST, WEST],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        yield int(server.stdout.readline())
    finally:
        server.kill()
        server.wait(timeout=5)


@pytest.mark.timeout(120)
def test_users_resolve_the_service_and_follow_the_answer(entries: int, tmp_path: Path) -> None:
    port = entries

    def seen() -> dict[str, dict[str, int]]:
        return dict(json.loads(get(f"http://{EAST}:{port}/_entries")))

    by_subnet = {CLIENT_SUBNETS[r]: ENTRY_ADDRESSES[r] for r in REGIONS}
    with FakeDnsServer(by_subnet, ttl=1) as dns:
        settings = LoadSettings(
            host="http://127.0.0.1:9",  # unused with geo DNS
            users=20,
            spawn_rate=20,
            duration_s=10,
            geography={"us-east": 50, "us-west": 50},
            tasks={"read_user": 6, "create_user": 1, "submit_photo": 3},
            seed=7,
            metrics_host="127.0.0.1",
            metrics_port=free_port(),
            run_dir=str(tmp_path),
            think_time_s=(0.05, 0.1),
            dns_host="127.0.0.1",
            dns_port=dns.port,
            entry_port=port,
            stale_share=0.5,
            stale_keep_s=60.0,
        )
        with start_load(settings) as load:
            deadline = time.monotonic() + 20
            while f"{WEST} us-west" not in seen()["by_entry"] and time.monotonic() < deadline:
                time.sleep(0.2)
            # us-west's entry fails its check: the server answers us-west's clients with us-east's.
            dns.answers[CLIENT_SUBNETS["us-west"]] = EAST
            time.sleep(2.5)  # past the 1 s TTL, and a think time, for every user honouring it
            before = seen()["by_entry"]
            time.sleep(2.0)
            after = seen()["by_entry"]
            scraped = get(f"http://127.0.0.1:{settings.metrics_port}/metrics")
            code = load.wait(timeout_s=40)
        by_host = seen()["by_host"]
    assert code == 0, (tmp_path / "locust.log").read_text()
    grew = {key: n - before.get(key, 0) for key, n in after.items()}
    assert grew.get(f"{EAST} us-west", 0) > 0, grew  # the users honouring the TTL moved
    assert grew.get(f"{WEST} us-west", 0) > 0, grew  # those ignoring it keep the old answer
    assert f"{WEST} us-east" not in after  # us-east's users were never sent west
    assert set(by_host) == {SERVICE_NAME}
    answers = 'harness_client_dns_answers_total{answered_region="us-east",region="us-west"}'
    assert answers in scraped and f"{answers} 0.0" not in scraped
    assert 'harness_client_dns_failures_total{region="us-west"} 0.0' in scraped
    # The entry that answered says its region served the request.
    ledger = read_ledger(tmp_path)
    assert {u.served for u in ledger.users if u.home == "us-east"} == {"us-east"}
    assert {u.served for u in ledger.users if u.home == "us-west"} == {"us-east", "us-west"}


@pytest.mark.timeout(120)
def test_open_model_iterations_without_any_dns_answer_are_failed_requests(
    entries: int, tmp_path: Path
) -> None:
    port = entries
    # The server answers us-east's subnet only: us-west's clients get NOERROR without an A.
    with FakeDnsServer({CLIENT_SUBNETS["us-east"]: EAST}, ttl=5) as dns:
        settings = LoadSettings(
            host="http://127.0.0.1:9",
            users=1,
            spawn_rate=1,
            duration_s=4,
            geography={"us-east": 50, "us-west": 50},
            tasks={"read_user": 1},
            seed=3,
            metrics_host="127.0.0.1",
            metrics_port=free_port(),
            run_dir=str(tmp_path),
            model="open",
            rate=40,
            max_in_flight=40,
            dns_host="127.0.0.1",
            dns_port=dns.port,
            entry_port=port,
        )
        with start_load(settings) as load:
            code = load.wait(timeout_s=40)
        queries = list(dns.seen)
    assert code == 1, (tmp_path / "locust.log").read_text()  # some requests failed
    with (tmp_path / "locust_stats.csv").open() as f:
        stats = {row["Name"]: row for row in csv.DictReader(f)}
    with (tmp_path / "locust_failures.csv").open() as f:
        failures = {(row["Name"], row["Error"]) for row in csv.DictReader(f)}
    # Every us-west iteration failed for want of an answer; none of them reached an entry.
    west = [row for name, row in stats.items() if name.startswith("us-west ")]
    east = [row for name, row in stats.items() if name.startswith("us-east ")]
    assert sum(int(row["Request Count"]) for row in west) > 10, stats
    assert all(row["Failure Count"] == row["Request Count"] for row in west), west
    assert {name.split(" ")[0] for name, _ in failures} == {"us-west"}, failures
    no_answer = "CatchResponseError('no answer (ResolveError: no A record), expected "
    assert all(error.startswith(no_answer) for _, error in failures), failures
    assert sum(int(row["Request Count"]) for row in east) > 10, stats
    by_entry = json.loads(get(f"http://{EAST}:{port}/_entries"))["by_entry"]
    assert set(by_entry) == {f"{EAST} us-east"}
    # us-east's iterations share one cache: a question per TTL (5 s, past the run), not one
    # per iteration (about 80); a few if the first iterations asked before the first answer.
    east_subnet = CLIENT_SUBNETS["us-east"]
    assert 1 <= sum(1 for _, subnet in queries if subnet == east_subnet) <= 5, queries
    assert read_ledger(tmp_path).counts.get("unknown", 0) == 0  # never sent: a definite no
