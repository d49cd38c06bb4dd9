"""The container logs of a run (the Docker adapter side of the run's artifacts)."""

from __future__ import annotations

import re
from pathlib import Path

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
