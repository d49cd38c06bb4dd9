"""Which requests reached the stack: the request ids the regions' entries logged.

Every write the load generator sends carries `X-Request-Id` (REQUEST_ID_HEADER), and each
entry's HAProxy captures it into its log line (target-stack/entry/entry.cfg). A write whose
answer the client never saw is unknown: it may or may not have been committed. But one whose
id no entry logged never reached the stack: the loopback proxy in front of a dead region's
entry accepts the client's connection and drops it, which the client cannot tell from a
request the stack took and never answered. The entries can: they are the only way in.

Caveat, in the direction that cannot hide a loss: HAProxy logs a request when it ends, so one
in flight when its entry was killed may be missing from the log although it reached a web
replica. Such a write is counted as not written; were it committed, it was never
acknowledged, and no invariant counts an unacknowledged write as lost.

Read through the Docker SDK (the containers' stdout since the run began), bounded in lines.
"""

from __future__ import annotations

import re

import docker
import docker.errors

from harness.errors import InfraError
from harness.stack import labels
from harness.vocabulary import REGIONS, entry_service

# `{<captured X-Request-Id>}` in HAProxy's httplog format: the capture block, then the request.
_CAPTURED = re.compile(r'\{([A-Za-z0-9_.:-]{1,64})\} "')
MAX_LINES = 2_000_000  # per entry: a long run at a few hundred requests/s fits


def request_ids(log_text: str) -> set[str]:
    """The request ids captured in HAProxy log lines. Pure."""
    return {m.group(1) for m in _CAPTURED.finditer(log_text)}


def reached_ids(client: docker.DockerClient, stack: str, *, since: float) -> frozenset[str]:
    """Every request id either region's entry logged since `since` (a Unix time)."""
    found: set[str] = set()
    for region in REGIONS:
        name = entry_service(region)
        containers = client.containers.list(
            all=True,
            filters={"label": [f"{labels.STACK}={stack}", f"{labels.INSTANCE}={name}"]},
        )
        if not containers:
            raise InfraError(f"stack {stack!r} has no {name} container to read requests from")
        try:
            raw = containers[0].logs(stdout=True, stderr=False, since=int(since), tail=MAX_LINES)
        except docker.errors.APIError as exc:
            raise InfraError(f"the log of {name} could not be read: {exc}") from exc
        found |= request_ids(raw.decode("utf-8", "replace"))
    return frozenset(found)
