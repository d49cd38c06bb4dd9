"""Are both data centres the same? Each container of one region against its counterpart in the
other: same image, command, environment and configuration files, but for what must differ.

Automated deployment is what keeps data centres identical: every container of both regions is
made from one spec (harness/stack/spec.py), so a difference means a container was made some
other way (by hand, by another harness version, before an image was rebuilt). `harness check`
compares the running stack (harness/stack/smoke.py reads it through the Docker SDK) and fails
on any difference.

Counterparts are found by name: a regional container's instance name holds its region
(`web-us-east-1`, `worker-us-west-2`, `queue-us-east`, `shard-0-us-west`), and its role is the
name without it (`web-<region>-1`). Containers of no region (the witness, Toxiproxy, the DNS
server, Prometheus) have no counterpart and are not compared. Pure: data in, differences out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.stack.patroni import NODE_SETTING, PATRONI_FILE
from harness.vocabulary import REGIONS

# Environment variables whose value differs between counterparts by design (spec.py), and
# why. Only the value is excused: a key set in one region and not in the other is still a
# difference. Everything else (the DB name and user, ports, the seeded bugs' switches, the
# workers' timings) must be equal.
REGION_SPECIFIC_ENV: dict[str, str] = {
    # web and workers (spec._links_env): where the container is, and its links, which are
    # Toxiproxy listen ports of its own region
    "REGION": "the region the container runs in",
    "QUEUE_ADDR": "the link to its own region's queue",
    "SHARD_ADDRS": "the links to its own region's copy of each shard",
    "SHARD_WRITE_ADDRS": "each shard's own copy first, then the other region's over the WAN",
    # a region's entry (spec._entry): the region it serves, and that region's web tier
    "ENTRY_REGION": "the region whose web tier the entry sends its users to",
    "WEB_ADDR": "its own region's web tier (the replicas' shared name)",
    # workers
    "WORKER_NAME": "the instance's name, which holds its region (worker-us-east-1)",
    # shard nodes (spec._data_tier)
    "BOOTSTRAP": "leader on the region that holds the shard's first primary (the stack's "
    "`primaries` placement), replica on the other",
    "ETCD_ADDR": "the link from its own region to the witness (etcd)",
    # Not LEADER_KEY: both nodes of a shard share one leader key (patroni.leader_key(shard)),
    # so a difference would put them in two clusters, and is reported.
}

# Fields of a shard node's Patroni configuration (patroni.patroni_config) that name the node
# or its region's links, as key paths; every other field must be equal on both nodes.
REGION_SPECIFIC_PATRONI: dict[tuple[str, ...], str] = {
    ("name",): "the member's name: its node's (shard-0-us-east)",
    ("restapi", "connect_address"): "its REST API, through the WAN link into its region",
    ("postgresql", "connect_address"): "its PostgreSQL, through the WAN link into its region",
    ("etcd3", "hosts"): "the witness, through its own region's witness link",
    ("postgresql", "parameters", NODE_SETTING): "the node's name, for the ledger",
}

_REGION = "<region>"
_NOT_SET = "(not set)"


@dataclass(frozen=True, kw_only=True)
class Deployed:
    """One container as it runs: what is compared with its counterpart."""

    instance: str  # its io.chaos-harness.instance label: "web-us-east-1"
    service: str  # its io.chaos-harness.service label: "web-us-east"
    image: str  # the id of the image it runs (not the tag: a tag moves on a rebuild)
    command: tuple[str, ...] = ()  # entrypoint and command
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # path -> content the harness wrote


@dataclass(frozen=True, kw_only=True)
class Difference:
    """One way two counterparts differ, or a container without its counterpart."""

    role: str  # the name without its region: "web-<region>-1"
    key: str  # "image", "command", "env BUG_STALE_READS", "file /etc/patroni.yml: ttl", "missing"
    # Per region, the container's name (None: missing there) and its value of `key`.
    containers: dict[str, str | None]
    values: dict[str, str] = field(default_factory=dict)

    def message(self) -> str:
        present = [n for n in self.containers.values() if n is not None]
        if self.key == "missing":
            absent = [r for r, n in self.containers.items() if n is None]
            return (
                f"{', '.join(present)}: no counterpart in {', '.join(absent)} "
                f"(expected {', '.join(self.role.replace(_REGION, r) for r in absent)})"
            )
        values = ", ".join(f"{v} in {r}" for r, v in self.values.items())
        return f"{' vs '.join(present)}: {self.key} differs: {values}"


@dataclass(frozen=True, kw_only=True)
class Parity:
    """The comparison of both regions: how many counterparts were compared, and every
    difference found (none: the regions are identical)."""

    pairs: int
    differences: list[Difference]

    @property
    def identical(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        if self.identical:
            return (
                f"regions identical: {self.pairs} pairs of containers, same images and "
                "configuration"
            )
        count = len(self.differences)
        return (
            f"regions differ: {count} difference{'s' if count != 1 else ''} between "
            f"{' and '.join(REGIONS)} ({self.pairs} pairs of containers compared)"
        )


def region_of(instance: str) -> str | None:
    """The region a container's name holds (`worker-us-west-2` -> `us-west`), or None."""
    parts = f"-{instance}-"
    return next((r for r in REGIONS if f"-{r}-" in parts), None)


def role_of(name: str, region: str) -> str:
    """The name without its region: `shard-0-us-east` -> `shard-0-<region>`."""
    return f"-{name}-".replace(f"-{region}-", f"-{_REGION}-", 1)[1:-1]


def compare(containers: Iterable[Deployed]) -> Parity:
    """Every difference between counterparts of the regions (REGIONS' first against each
    other), in the order of their roles; `pairs`: roles present in every region."""
    by_role: dict[str, dict[str, Deployed]] = {}
    for c in containers:
        region = region_of(c.instance)
        if region is not None:
            by_role.setdefault(role_of(c.instance, region), {})[region] = c
    differences: list[Difference] = []
    pairs = 0
    for role in sorted(by_role):
        found = by_role[role]
        names = {r: (found[r].instance if r in found else None) for r in REGIONS}
        if len(found) < len(REGIONS):
            differences.append(Difference(role=role, key="missing", containers=names))
            continue
        pairs += 1
        differences += _differences(role, names, [found[r] for r in REGIONS])
    return Parity(pairs=pairs, differences=differences)


def _differences(
    role: str, names: dict[str, str | None], found: list[Deployed]
) -> list[Difference]:
    values: dict[str, list[str]] = {}  # key -> one value per region
    for index, c in enumerate(found):
        region = REGIONS[index]
        for key, value in _facts(c, region).items():
            values.setdefault(key, [_NOT_SET] * len(found))[index] = value
    return [
        Difference(role=role, key=key, containers=names, values=dict(zip(REGIONS, vs, strict=True)))
        for key, vs in values.items()
        if len(set(vs)) > 1
    ]


def _facts(c: Deployed, region: str) -> dict[str, str]:
    """What is compared, as key -> printable value: the same key in each region must hold the
    same value, region-specific values already replaced by a placeholder."""
    facts = {
        "service": role_of(c.service, region),
        "image": _short(c.image),
        "command": " ".join(c.command) or "(the image's)",
    }
    for key, value in sorted(c.env.items()):
        # An excused value still needs its key: its placeholder is the same in each region.
        facts[f"env {key}"] = "(differs by region)" if key in REGION_SPECIFIC_ENV else repr(value)
    for path, content in sorted(c.files.items()):
        if path == PATRONI_FILE:
            for field_path, value in _patroni_fields(content).items():
                facts[f"file {path}: {field_path}"] = value
        else:
            facts[f"file {path}"] = f"sha256 {hashlib.sha256(content.encode()).hexdigest()[:12]}"
    return facts


def _short(image: str) -> str:
    return image[:19] if image.startswith("sha256:") else image


def _patroni_fields(content: str) -> dict[str, str]:
    """A Patroni configuration as dotted field -> JSON value, without the region-specific
    fields (an unreadable file is one field: its content's hash)."""
    try:
        doc = yaml.safe_load(content)
    except yaml.YAMLError:
        doc = None
    if not isinstance(doc, dict):
        return {"(unreadable)": f"sha256 {hashlib.sha256(content.encode()).hexdigest()[:12]}"}
    return {
        ".".join(path): json.dumps(value, sort_keys=True)
        for path, value in _flatten(doc, ())
        if path not in REGION_SPECIFIC_PATRONI
    }


def _flatten(value: Any, path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], Any]]:
    """Leaves of nested mappings, by key path (a list is one leaf)."""
    if isinstance(value, dict) and value:
        for key in sorted(value, key=str):
            yield from _flatten(value[key], (*path, str(key)))
    else:
        yield path, value
