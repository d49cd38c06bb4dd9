"""Labels on everything the harness creates, so leftovers are found without any state file.

Like compose's project labels and testcontainers' session id: a crashed harness leaves
containers, a network and volumes that carry `io.chaos-harness.stack`, and `cleanup` (or the
next start) finds them by label alone.
"""

from __future__ import annotations

import os
import socket

from harness import __version__

PREFIX = "io.chaos-harness"
STACK = f"{PREFIX}.stack"
SERVICE = f"{PREFIX}.service"
INSTANCE = f"{PREFIX}.instance"
OWNER = f"{PREFIX}.owner"
VERSION = f"{PREFIX}.version"
CONTEXT_HASH = f"{PREFIX}.context-hash"
PROBE = f"{PREFIX}.probe"  # how the harness probes the container's readiness (stack/probes.py)

OWNER_UP = "up"  # a stack started by `harness up`: it outlives the process on purpose


def run_owner(pid: int | None = None, host: str | None = None) -> str:
    """Owner value for a stack that belongs to one `harness run` process."""
    return f"run:{host or socket.gethostname()}:{pid or os.getpid()}"


def stack_labels(stack: str, owner: str) -> dict[str, str]:
    return {STACK: stack, OWNER: owner, VERSION: __version__}


def container_labels(stack: str, owner: str, *, service: str, instance: str) -> dict[str, str]:
    return {**stack_labels(stack, owner), SERVICE: service, INSTANCE: instance}


def stack_filter(stack: str | None = None) -> dict[str, list[str]]:
    """A Docker `filters=` value selecting one stack's objects, or every harness object."""
    return {"label": [f"{STACK}={stack}" if stack else STACK]}


def owner_is_dead(owner: str, *, this_host: str | None = None) -> bool:
    """True when `owner` names a `harness run` process on this host that no longer exists.

    Stacks started by `up`, and runs on other hosts, are never considered dead: we cannot
    tell, so we leave them to an explicit `harness cleanup`.
    """
    parts = owner.split(":")
    if len(parts) != 3 or parts[0] != "run":
        return False
    _, host, pid_text = parts
    if host != (this_host or socket.gethostname()) or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
