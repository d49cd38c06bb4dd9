"""What `harness run` was asked to do, beyond the scenario file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    scenario_path: Path
    reports_dir: Path = Path("reports")
    stack_name: str = "default"
    reuse_stack: bool = False  # use the running stack of that name (started by `harness up`)
    keep_stack: bool = False  # leave the stack running after the run
    load_workers: int = 1  # Locust processes
    up_timeout_s: float = 180.0
    drain_timeout_s: float = 60.0  # how long no_lost_jobs waits for the queue to drain
    settle_s: float = 3.0  # after the load, so the last scrapes land before judging
    bugs: tuple[str, ...] = ()  # seeded bugs added to the scenario's own (show the gate fails)
