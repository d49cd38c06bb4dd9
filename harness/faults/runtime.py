"""How a fault kind acts on the stack: each spec's `inject(ctx)` is a context manager.

Entering applies the fault; leaving removes it, on every path (normal end, exception,
Ctrl-C): the removal sits in a `finally`, and never swallows the exception that is passing
through. A kind is its spec class (harness/faults/kinds/): the class is registered once, by
`@register_spec`, and carries its own `inject`. The context is typed against the ports, so
this module (and every kind) imports no adapter: any LinkControl and ContainerControl will do.

The context wraps the ports it is given (harness.faults.effects), so every call that changes
the stack is counted and the first one stamps the fault's first effect, whatever the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from harness.errors import InfraError
from harness.faults.effects import FaultEffects, StampedContainers, StampedLinks
from harness.faults.spec import FaultSpec
from harness.ports import ContainerControl, LinkControl


class FaultDidNotBite(InfraError):
    """The fault ran but did not do what the scenario asked (consumer_death's mid-job kills
    that caught no worker inside a job): the checks it exists for were never exercised, so
    the run must not pass. The message starts with what the fault did, e.g. `killed 2
    workers, none inside a job: the fault did not bite`; the scheduler names the fault."""


@dataclass(frozen=True, kw_only=True)
class FaultContext:
    """The adapters a fault may use, and where it reports what it did.

    `links` and `containers` are replaced by wrappers that mark each change on `effects`
    (the scheduler's, or a fresh one), so no kind can change the stack unstamped."""

    links: LinkControl
    containers: ContainerControl[Any]
    event: Callable[[str, str], None]  # (kind, message) -> recorded with a timestamp
    label: str  # unique among the run's faults; toxics are named after it
    effects: FaultEffects = field(default_factory=FaultEffects)

    def __post_init__(self) -> None:
        # Frozen: the wrapping happens once, here, and nothing can swap the raw ports back in.
        if not isinstance(self.links, StampedLinks):
            object.__setattr__(self, "links", StampedLinks(self.links, self.effects))
        if not isinstance(self.containers, StampedContainers):
            stamped = StampedContainers(self.containers, self.effects)
            object.__setattr__(self, "containers", stamped)


def inject(spec: FaultSpec, ctx: FaultContext) -> AbstractContextManager[None]:
    """The context manager that applies `spec` and removes it on exit."""
    return spec.inject(ctx)


@contextmanager
def toxic(
    ctx: FaultContext,
    link: str,
    *,
    type: str,
    attributes: dict[str, Any],
    stream: str = "downstream",
    toxicity: float = 1.0,
) -> Iterator[None]:
    """One Toxiproxy toxic on one link for the duration of the block."""
    name = f"{ctx.label}-{type}-{stream}"
    ctx.links.add_toxic(
        link, name=name, type=type, attributes=attributes, stream=stream, toxicity=toxicity
    )
    ctx.event("toxic_added", f"{type} on {link} ({stream}) {attributes}")
    try:
        yield
    finally:
        ctx.links.remove_toxic(link, name)
        ctx.event("toxic_removed", f"{type} on {link} ({stream})")


@contextmanager
def links_down(ctx: FaultContext, links: list[str]) -> Iterator[None]:
    """Disable proxies (connections dropped, nothing listens) and enable them again after."""
    disabled: list[str] = []
    try:
        for link in links:
            ctx.links.set_enabled(link, False)
            disabled.append(link)
        ctx.event("links_disabled", ", ".join(links))
        yield
    finally:
        errors = []
        for link in reversed(disabled):
            try:
                ctx.links.set_enabled(link, True)
            except Exception as exc:  # keep enabling the others; report after
                errors.append(exc)
        ctx.event("links_enabled", ", ".join(disabled))
        if errors:
            raise errors[0]


@contextmanager
def containers_down(
    ctx: FaultContext,
    targets: list[Any],
    *,
    down: Callable[[Any], None],
    up: Callable[[Any], None] | None,
    verb: str,
) -> Iterator[None]:
    """Take containers down (kill, stop, pause) and, unless `up` is None, bring them back."""
    done: list[Any] = []
    try:
        for container in targets:
            down(container)
            done.append(container)
            ctx.event(f"container_{verb}", container.name)
        yield
    finally:
        if up is not None:
            errors = []
            for container in reversed(done):
                try:
                    up(container)
                    ctx.event("container_started", container.name)
                except Exception as exc:  # bring the others back before reporting
                    errors.append(exc)
            if errors:
                raise errors[0]
