"""Requests/s of the harness's load generator versus a plain Locust FastHttpUser.

Both hit the same trivial loopback endpoint (harness.load.fake_target, GET /users/{id}), one
Locust process each, no think time, alternating rounds in the same run. The ratio is the cost
of the harness's ledger, client metrics and per-user seeded RNGs; the target is >= 0.9.

    .venv/bin/python benchmarks/loadgen_overhead.py [--users 20] [--seconds 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.load.runner import start_load
from harness.load.settings import LoadSettings

PLAIN_LOCUSTFILE = """
from locust import FastHttpUser, constant, task

class Plain(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.client.post("/users", json={"name": "plain"}, headers={"X-Home-Region": "us-east"})

    @task
    def read_user(self):
        self.client.get("/users/1", name="/users/{id}", headers={"X-Home-Region": "us-east"})
"""


def aggregated_rps(stats_csv: Path) -> float:
    with open(stats_csv, newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return float(row["Requests/s"])


def run_plain(host: str, users: int, seconds: int, work: Path) -> float:
    locustfile = work / "plain_locustfile.py"
    locustfile.write_text(PLAIN_LOCUSTFILE)
    prefix = work / "plain"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--host",
        host,
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    subprocess.run(command, check=False, timeout=seconds + 30, capture_output=True)
    return aggregated_rps(Path(f"{prefix}_stats.csv"))


def run_harness(host: str, users: int, seconds: int, work: Path) -> float:
    settings = LoadSettings(
        host=host,
        users=users,
        spawn_rate=users,
        duration_s=seconds,
        geography={"us-east": 70, "us-west": 30},
        tasks={"read_user": 1},
        seed=1,
        metrics_host="127.0.0.1",
        metrics_port=free_port(),
        run_dir=str(work / "harness"),
        think_time_s=(0.0, 0.0),
    )
    with start_load(settings) as load:
        load.wait(timeout_s=seconds + 30)
    return aggregated_rps(work / "harness" / "locust_stats.csv")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "harness.load.fake_target"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        host = f"http://127.0.0.1:{int(server.stdout.readline())}"
        plain, harness = [], []
        for n in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="loadgen-bench-") as tmp:
                # Alternate who goes first, so warm-up and drift fall on both sides.
                if n % 2:
                    plain.append(run_plain(host, args.users, args.seconds, Path(tmp)))
                harness.append(run_harness(host, args.users, args.seconds, Path(tmp)))
                if not n % 2:
                    plain.append(run_plain(host, args.users, args.seconds, Path(tmp)))
            print(f"round {n + 1}: harness {harness[-1]:.0f} req/s, plain {plain[-1]:.0f} req/s")
    finally:
        server.kill()
        server.wait(timeout=5)
    mean_h, mean_p = sum(harness) / len(harness), sum(plain) / len(plain)
    ratio = mean_h / mean_p if mean_p else 0.0
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}"
    )
    print(f"harness load generator: {mean_h:.0f} req/s")
    print(f"plain FastHttpUser:     {mean_p:.0f} req/s")
    print(f"ratio: {ratio:.3f} (target >= 0.9): {'ok' if ratio >= 0.9 else 'BELOW TARGET'}")
    return 0 if ratio >= 0.9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
