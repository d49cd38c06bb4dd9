"""What a run leaves for the report besides metrics: Locust's summary (pure file reading; the
container logs are read by harness.run.container_logs, a Docker adapter)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def locust_summary(run_dir: Path) -> dict[str, Any]:
    """Locust's final figures (locust_stats.csv): the aggregate and one row per entry."""
    path = run_dir / "locust_stats.csv"
    if not path.exists():
        return {}
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    keep = ("Request Count", "Failure Count", "Requests/s", "Median Response Time",
            "95%", "99%", "Max Response Time")  # fmt: skip
    summary: dict[str, Any] = {}
    for row in rows:
        name = row.get("Name", "")
        if not name:
            continue
        entry = {k: _num(row[k]) for k in keep if k in row}
        label = "total" if name == "Aggregated" else f"{row.get('Type', '')} {name}".strip()
        summary[label] = entry
    return summary


def _num(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
