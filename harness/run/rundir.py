"""Where a run's output goes: reports/<UTC time>-<scenario name>/."""

from __future__ import annotations

import re
import time
from pathlib import Path

DEFAULT_REPORTS = Path("reports")


def slug(name: str) -> str:
    """A file-name-safe form of a scenario name (which may hold anything, even markup)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned[:60] or "scenario"


def run_id(scenario_name: str, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))
    return f"{stamp}-{slug(scenario_name)}"


def make_run_dir(reports: Path, scenario_name: str, now: float | None = None) -> Path:
    base = reports / run_id(scenario_name, now)
    path, n = base, 1
    while path.exists():  # two runs in the same second get distinct folders
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    (path / "logs").mkdir(parents=True)
    return path
