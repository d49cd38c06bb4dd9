"""Which node of each shard is the primary, and whether its standby streams: asked of the
nodes themselves (PostgreSQL through their published loopback ports), bounded in time.

`up` waits on it: a stack whose shards have no primary yet, or whose primaries have no
standby, is not ready (a run started then would measure the bootstrap, not a fault).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import requests

from harness.errors import InfraError
from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.endpoints import Endpoints
from harness.vocabulary import region_of_node

CONNECT_TIMEOUT_S = 2  # libpq's least
POLL_S = 0.5


@dataclass(frozen=True, kw_only=True)
class NodeState:
    node: str
    role: str  # "primary", "standby" or "down"
    streaming: tuple[str, ...] = ()  # a primary's standbys, as pg_stat_replication names them
    detail: str = ""


def node_state(node: str, url: str) -> NodeState:
    try:
        with psycopg.connect(
            url,
            connect_timeout=CONNECT_TIMEOUT_S,
            options="-c statement_timeout=2000",
            autocommit=True,
        ) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row is None or row[0]:
                return NodeState(node=node, role="standby")
            names = conn.execute(
                "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'"
            ).fetchall()
            return NodeState(node=node, role="primary", streaming=tuple(str(n[0]) for n in names))
    except psycopg.Error as exc:
        return NodeState(node=node, role="down", detail=" ".join(str(exc).split())[:120])


def shard_states(endpoints: Endpoints) -> dict[int, list[NodeState]]:
    """Per shard, the state of each of its nodes (in region order)."""
    return {
        shard: [
            node_state(t.shard_node(shard, region), url)
            for region, url in zip(t.REGIONS, urls, strict=True)
        ]
        for shard, urls in enumerate(endpoints.shards)
    }


def synchronous_standbys(apis: tuple[str, ...]) -> frozenset[str] | None:
    """The nodes Patroni names the shard's synchronous standbys (its `/sync` key in etcd, as
    the first node's REST API that answers reports it), or None when no API answers."""
    for api in apis:
        try:
            answer = requests.get(f"{api}/cluster", timeout=CONNECT_TIMEOUT_S)
            answer.raise_for_status()
            members = answer.json().get("members", [])
        except (requests.RequestException, ValueError, AttributeError):
            continue
        return frozenset(
            str(m.get("name")) for m in members
            if isinstance(m, dict) and m.get("role") == "sync_standby"
        )  # fmt: skip
    return None


def replication_problem(
    shard: int, states: list[NodeState], sync: frozenset[str] | None = None
) -> str | None:
    """Why a shard is not replicated as it should be, or None: one primary, streaming to
    every other node of the shard, and (when `sync` is given: Patroni's synchronous standbys)
    every other node its synchronous standby."""
    primaries = [s for s in states if s.role == "primary"]
    if len(primaries) != 1:
        roles = ", ".join(f"{s.node} {s.role}" for s in states)
        return f"shard {shard} has {len(primaries)} primaries ({roles})"
    others = {s.node for s in states} - {primaries[0].node}
    missing = sorted(others - set(primaries[0].streaming))
    if missing:
        return f"shard {shard}: {', '.join(missing)} not streaming from {primaries[0].node}"
    if sync is not None and (not_sync := sorted(others - sync)):
        return f"shard {shard}: Patroni has not made {', '.join(not_sync)} synchronous yet"
    return None


def wait_replicated(
    endpoints: Endpoints,
    *,
    timeout_s: float,
    progress: Callable[[str], None],
    synchronous: bool = False,
) -> dict[int, str]:
    """Return once every shard has one primary streaming to its standby: shard -> primary.

    `synchronous`: also wait until Patroni has named that standby the synchronous one in
    etcd. Streaming, and even PostgreSQL's own `sync_state = 'sync'`, come first: Patroni
    sets synchronous_standby_names, then writes its `/sync` key a loop later. Until that key
    names the standby, Patroni will not promote it, and a standby lost in between leaves
    the primary's commits waiting for it for good (Patroni 3.0 compares what it wants with
    the key, not with the setting). A fault injected in that window measures the bootstrap,
    not the failover."""
    deadline = time.monotonic() + timeout_s
    said = False
    while True:
        states = shard_states(endpoints)
        problems = [
            p
            for s, st in states.items()
            if (p := replication_problem(
                s, st, synchronous_standbys(endpoints.patroni[s]) if synchronous else None
            ))
        ]  # fmt: skip
        if not problems:
            return {
                shard: next(s.node for s in st if s.role == "primary")
                for shard, st in states.items()
            }
        if not said:
            progress(f"waiting for every shard's primary and standby ({problems[0]})")
            said = True
        if time.monotonic() > deadline:
            raise InfraError(
                f"the shards are not replicated after {timeout_s:.0f} s: " + "; ".join(problems),
                hint="the shard nodes' logs (docker logs chaos-<stack>-shard-0-us-east) show "
                "what Patroni is doing",
            )
        time.sleep(POLL_S)


def restore_placement(
    endpoints: Endpoints,
    config: StackConfig,
    *,
    timeout_s: float,
    progress: Callable[[str], None],
) -> list[str]:
    """Move each shard's primary back to the region the stack places it in (a switchover by
    Patroni's REST API), so every run starts from the same placement, whatever failovers an
    earlier run caused. Returns what was moved ("shard 0: shard-0-us-west -> ...-us-east")."""
    primaries = wait_replicated(
        endpoints, timeout_s=timeout_s, progress=progress, synchronous=config.synchronous
    )
    moved = []
    deadline = time.monotonic() + timeout_s
    for shard, primary in primaries.items():
        wanted = t.shard_node(shard, config.primary_region(shard))
        if primary == wanted:
            continue
        api = endpoints.patroni[shard][t.REGIONS.index(region_of_node(primary) or "")]
        progress(f"switching shard {shard}'s primary back to {wanted} (from {primary})")
        while True:
            try:
                answer = requests.post(
                    f"{api}/switchover",
                    json={"leader": primary, "candidate": wanted},
                    timeout=max(1.0, min(30.0, deadline - time.monotonic())),
                )
            except requests.RequestException as exc:
                raise InfraError(f"Patroni at {api} did not answer a switchover: {exc}") from exc
            # 412: the candidate is not the synchronous standby yet (just rejoined): wait.
            if answer.status_code != 412 or time.monotonic() > deadline:
                break
            time.sleep(1)
        if answer.status_code != 200:
            raise InfraError(
                f"Patroni refused to switch shard {shard} over to {wanted}: "
                f"HTTP {answer.status_code} {answer.text.strip()[:200]}"
            )
        moved.append(f"shard {shard}: {primary} -> {wanted}")
    if moved:
        _wait_placed(endpoints, config, deadline=deadline, progress=progress)
    return moved


def _wait_placed(
    endpoints: Endpoints, config: StackConfig, *, deadline: float, progress: Callable[[str], None]
) -> None:
    while True:
        primaries = wait_replicated(
            endpoints,
            timeout_s=max(0.0, deadline - time.monotonic()),
            progress=progress,
            synchronous=config.synchronous,
        )
        wrong = [
            f"shard {s} on {p}"
            for s, p in primaries.items()
            if p != t.shard_node(s, config.primary_region(s))
        ]
        if not wrong:
            return
        if time.monotonic() > deadline:
            raise InfraError("shards not back in their places: " + ", ".join(wrong))
        time.sleep(POLL_S)
