"""Which stack a run uses, and whether the run must remove it afterwards.

- `--reuse-stack`: the running stack of that name; never removed by the run.
- otherwise the run brings the stack up (reusing an identical healthy one, e.g. from
  `harness up`, which it then leaves alone); a stack the run started itself is owned by the
  run's process (so a killed run is reaped later) and removed at the end unless
  `--keep-stack`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import docker

from harness.errors import InfraError, UsageError
from harness.faults.containers import DockerContainers
from harness.run.options import RunOptions
from harness.scenario.model import Scenario
from harness.stack import labels
from harness.stack.config import StackConfig, differences
from harness.stack.endpoints import Endpoints
from harness.stack.lifecycle import (
    CONFIG,
    CONFIG_HASH,
    bring_up,
    config_hash,
    discover_endpoints,
    stack_containers,
)
from harness.stack.replication import restore_placement
from harness.stack.status import stack_status, wait_until_healthy
from harness.stack.teardown import tear_down

Say = Callable[[str], None]


@dataclass(kw_only=True)
class StackUse:
    name: str
    endpoints: Endpoints
    owned: bool  # started by this run: removed at the end
    images: dict[str, str]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owned_by_run": self.owned,
            "endpoints": self.endpoints.as_dict(),
            "images": self.images,
        }

    def release(self, client: docker.DockerClient, *, say: Say) -> None:
        if self.owned:
            say(f"removing stack {self.name!r}")
            tear_down(client, self.name)


def stack_config(scenario: Scenario, name: str, extra_bugs: tuple[str, ...] = ()) -> StackConfig:
    return StackConfig(
        name=name,
        web_replicas=scenario.stack.web_replicas,
        workers_per_region=scenario.stack.workers_per_region,
        bugs=frozenset(scenario.stack.bugs) | frozenset(extra_bugs),
        wan_latency_ms=scenario.stack.wan_latency_ms,
        replication=scenario.stack.replication,
        primaries=scenario.stack.primaries,
        dns_ttl_s=scenario.stack.dns_ttl_s,
        dns_check_interval_s=scenario.stack.dns_check_interval_s,
    )


def acquire_stack(
    client: docker.DockerClient, scenario: Scenario, options: RunOptions, *, say: Say
) -> StackUse:
    before = stack_status(client, options.stack_name)
    if options.reuse_stack:
        if options.bugs:
            raise UsageError(
                "--bug needs a stack built with the bug; it cannot be used with --reuse-stack",
                hint="drop --reuse-stack (the run starts its own stack with the bug)",
            )
        if not before.services:
            raise InfraError(
                f"--reuse-stack: stack {options.stack_name!r} is not up",
                hint=f"start it with `harness up --stack {options.stack_name}`, or drop "
                "--reuse-stack to let the run start its own",
            )
        check_reusable(client, stack_config(scenario, options.stack_name))
        # A stack just healed (containers restarted) needs a moment: wait, don't fail.
        DockerContainers(client, options.stack_name).heal_all()
        ready = wait_until_healthy(client, options.stack_name, timeout_s=options.up_timeout_s)
        endpoints = discover_endpoints(client, options.stack_name)
        # Every run starts from the stack's placement of primaries, whatever an earlier
        # run's failovers left.
        restore_placement(
            endpoints,
            stack_config(scenario, options.stack_name),
            timeout_s=options.up_timeout_s,
            progress=say,
        )
        return StackUse(
            name=options.stack_name,
            endpoints=endpoints,
            owned=False,
            images={svc.name: svc.image for svc in ready.services},
        )
    owner = labels.OWNER_UP if options.keep_stack else labels.run_owner()
    endpoints = bring_up(
        client,
        stack_config(scenario, options.stack_name, options.bugs),
        timeout_s=options.up_timeout_s,
        progress=say,
        owner=owner,
    )
    after = stack_status(client, options.stack_name)
    reused = bool(before.services) and {s.name: s.image for s in before.services} == {
        s.name: s.image for s in after.services
    }
    owned = not reused and not options.keep_stack
    return StackUse(
        name=options.stack_name,
        endpoints=endpoints,
        owned=owned,
        images={s.name: s.image for s in after.services},
    )


def check_reusable(client: docker.DockerClient, wanted: StackConfig) -> None:
    """--reuse-stack runs on the stack as it is, so a scenario whose `stack:` block asks for
    another one is refused (exit 2) naming each difference, rather than run on the wrong
    stack. The running config is read from its containers' labels; a stack started before
    the config label existed is compared by its config hash."""
    found = {c.labels.get(CONFIG) for c in stack_containers(client, wanted.name)}
    name = wanted.name
    hint = (
        f"drop --reuse-stack (the run starts the stack the scenario asks for), or restart the"
        f" stack with `harness down --stack {name}` and `harness up --stack {name}`"
    )
    if None in found or len(found) != 1:
        hashes = {c.labels.get(CONFIG_HASH) for c in stack_containers(client, name)}
        if hashes == {config_hash(wanted)}:
            return
        raise UsageError(
            f"--reuse-stack: the running stack {name!r} was started with another config than"
            f" the scenario asks for (config hash {', '.join(sorted(map(str, hashes)))} vs"
            f" {config_hash(wanted)}); it carries no {CONFIG} label to say how it differs",
            hint=hint,
        )
    (text,) = found
    assert text is not None
    try:
        running = StackConfig.from_json(text, name=name)
    except ValueError as exc:
        raise UsageError(f"--reuse-stack: stack {name!r} has a {CONFIG} label that does not"
                         f" parse: {exc}", hint=hint) from exc  # fmt: skip
    diffs = differences(wanted, running)
    if not diffs:
        return
    (field, a, b), rest = diffs[0], diffs[1:]
    parts = [f"scenario asks {field} {a}, the running stack {name!r} has {b}"]
    parts += [f"{f} {x} vs {y}" for f, x, y in rest]
    raise UsageError("--reuse-stack: " + "; ".join(parts), hint=hint)
