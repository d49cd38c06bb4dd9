"""The open load model's achieved rate against the rate it was asked for.

The open model (`load: {model: open, rate: R}`) sends R iterations per second whatever the
answers (harness.load.arrivals). This asks it for several rates against the trivial loopback
endpoint harness.load.fake_target (GET /users/{id}), in one Locust process and in all-core mode
(a master and N workers), and prints achieved / asked for each: the baseline is the schedule
itself, measured in the same run. Below about 0.97 the generator, not the target, is the limit:
past that rate an open-model scenario on this machine measures the load generator.

    .venv/bin/python benchmarks/open_model_rate.py [--rates 100,300,600] [--processes -1]
        [--seconds 10]

Every child is in its own process group, killed on every way out; traffic goes to 127.0.0.1
only. Exit 0 every rate up to the first one's reached within 3 %, 1 not, 3 a failure, 130
interrupted.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from tempfile import TemporaryDirectory

from _common import load_average, machine_line
from loadgen_overhead import (
    RUN_MARGIN_S,
    FakeTarget,
    ProcessGroups,
    Run,
    measured,
    with_target,
)

from harness.load.runner import start_load
from harness.load.settings import LoadSettings
from harness.net import free_port

REACHED = 0.97  # achieved / asked at or above this: the generator kept the schedule


def run_open(
    target: FakeTarget, groups: ProcessGroups, rate: float, processes: int, seconds: int, work: Path
) -> Run:
    settings = LoadSettings(
        host=target.host,
        users=1,
        spawn_rate=1,
        duration_s=seconds,
        geography={"us-east": 70, "us-west": 30},
        tasks={"read_user": 1},
        seed=1,
        metrics_host="127.0.0.1",
        metrics_port=free_port(),
        run_dir=str(work),
        model="open",
        rate=rate,
        max_in_flight=max(10, int(rate)),
    )

    def go() -> None:
        with start_load(settings, processes=processes) as load:
            groups.add(load.pid)
            load.wait(timeout_s=seconds + RUN_MARGIN_S)
        groups.kill(load.pid)

    return measured(target, go, work / "locust_stats.csv")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rates", default="100,300,600", help="iterations/s, comma-separated")
    parser.add_argument("--processes", type=int, default=-1, help="all-core mode (-1: cores)")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    try:
        args.rate_list = [float(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        parser.error(f"--rates must be numbers separated by commas, got {args.rates!r}")
    if not args.rate_list or min(args.rate_list) <= 0 or args.seconds < 3:
        parser.error("--rates must be > 0 and --seconds >= 3")
    if args.processes == -1:
        args.processes = os.cpu_count() or 1
    return args


def main() -> int:
    args = parse_args()
    print(machine_line(), flush=True)
    rows: list[tuple[str, float, float, Run]] = []

    def measure(target: FakeTarget, groups: ProcessGroups) -> None:
        with TemporaryDirectory() as tmp:
            for name, processes in (("one process", 1), ("all cores", args.processes)):
                for rate in args.rate_list:
                    work = Path(tmp) / f"{processes}-{rate:g}"
                    run = run_open(target, groups, rate, processes, args.seconds, work)
                    rows.append((name, rate, run.rps, run))
                    print(f"  {name:11} asked {rate:6.0f}/s  achieved {run.rps:7.1f}/s  "
                          f"ratio {run.rps / rate:.3f}  failures {run.failures}  "
                          f"target busy {run.target_busy:.2f} cores", flush=True)  # fmt: skip

    failed = with_target(measure)
    if failed is not None:
        return failed
    first = min(args.rate_list)
    kept = all(rps / rate >= REACHED for _, rate, rps, _ in rows if rate == first)
    print(f"the lowest rate ({first:g}/s) reached within {1 - REACHED:.0%} in both modes: "
          f"{'yes' if kept else 'NO'}; load average {load_average():.1f}")  # fmt: skip
    return 0 if kept else 1


if __name__ == "__main__":
    raise SystemExit(main())
