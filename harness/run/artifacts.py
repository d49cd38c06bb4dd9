"""What a run leaves for the report besides metrics: container logs and Locust's summary."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import docker
import docker.errors

from harness.stack import labels

ERROR_LINE = re.compile(r"\b(error|exception|fatal|panic|traceback|failed)\b", re.IGNORECASE)
MAX_ERROR_LINES = 40
MAX_LOG_LINES = 5000


def save_container_logs(
    client: docker.DockerClient, stack: str, logs_dir: Path, since: float
) -> dict[str, list[str]]:
    """Write logs/<instance>.log for every container of the stack (lines since the run began)
    and return the lines that look like errors, per container."""
    errors: dict[str, list[str]] = {}
    for container in client.containers.list(
        all=True, filters=labels.stack_filter(stack), ignore_removed=True
    ):
        instance = container.labels.get(labels.INSTANCE, container.name)
        try:
            raw = container.logs(since=int(since), tail=MAX_LOG_LINES, timestamps=True)
        except docker.errors.DockerException as exc:
            errors[instance] = [f"(could not read the log: {exc})"]
            continue
        text = raw.decode("utf-8", "replace")
        (logs_dir / f"{instance}.log").write_text(text)
        found = [line for line in text.splitlines() if ERROR_LINE.search(line)]
        if found:
            errors[instance] = found[-MAX_ERROR_LINES:]
    return errors


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
