"""What a fault did to the stack, and when it first did it.

A fault's apply step can take seconds (stopping containers one after the other, waiting for a
worker to take a job before killing it), so the time it *ended* is not when the stack first
felt it: errors from the first stopped container would land in `steady`. The FaultContext
hands every fault kind its ports wrapped in `StampedLinks`/`StampedContainers`, which call
`FaultEffects.mark()` right before each call that changes the stack. A new kind cannot forget to
mark its first effect: it has no other way to reach the stack.

The counts (`container_killed: 2`, `link_disabled: 9`, and a kind's own, such as
consumer_death's `killed_in_job`) go into the fault's record as `effects`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from harness.ports import ContainerControl, LinkControl

H = TypeVar("H")


class FaultEffects:
    """Counts of what one fault changed; `first_at` is stamped by the first change.

    `on_first` runs once, right after that stamp and before the change is made, so the run can
    open the fault's window (the fault gauge, the record) at once."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        on_first: Callable[[float], None] = lambda at: None,
    ) -> None:
        self.first_at: float | None = None
        self.counts: dict[str, int] = {}
        self._clock = clock
        self._on_first = on_first

    def mark(self, what: str) -> None:
        """A change to the stack is about to be made (the port wrappers call this)."""
        if self.first_at is None:
            self.first_at = self._clock()
            self._on_first(self.first_at)
        self.count(what)

    def count(self, what: str, n: int = 1) -> None:
        """A kind's own tally of what it did (no stamp: counting changes nothing)."""
        self.counts[what] = self.counts.get(what, 0) + n


class StampedLinks:
    """A LinkControl that marks each change on `effects` before making it."""

    def __init__(self, inner: LinkControl, effects: FaultEffects) -> None:
        self.inner = inner
        self.effects = effects

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.effects.mark("link_enabled" if enabled else "link_disabled")
        self.inner.set_enabled(name, enabled)

    def add_toxic(
        self,
        proxy_name: str,
        *,
        name: str,
        type: str,
        attributes: dict[str, Any],
        stream: str = "downstream",
        toxicity: float = 1.0,
    ) -> None:
        self.effects.mark("toxic_added")
        self.inner.add_toxic(
            proxy_name, name=name, type=type, attributes=attributes, stream=stream,
            toxicity=toxicity,
        )  # fmt: skip

    def remove_toxic(self, proxy_name: str, name: str) -> None:
        self.effects.mark("toxic_removed")
        self.inner.remove_toxic(proxy_name, name)

    def reset(self) -> None:
        self.effects.mark("links_reset")
        self.inner.reset()


class StampedContainers(Generic[H]):
    """A ContainerControl that marks each change on `effects` before making it; lookups and
    waits pass through unmarked (they change nothing)."""

    def __init__(self, inner: ContainerControl[H], effects: FaultEffects) -> None:
        self.inner = inner
        self.effects = effects

    def instances(self, target: str) -> list[H]:
        return self.inner.instances(target)

    def wait_worker_busy(self, container: H, timeout_s: float) -> bool:
        return self.inner.wait_worker_busy(container, timeout_s)

    def kill(self, container: H) -> None:
        self.effects.mark("container_killed")
        self.inner.kill(container)

    def stop(self, container: H) -> None:
        self.effects.mark("container_stopped")
        self.inner.stop(container)

    def start(self, container: H) -> None:
        self.effects.mark("container_started")
        self.inner.start(container)

    def pause(self, container: H) -> None:
        self.effects.mark("container_paused")
        self.inner.pause(container)

    def unpause(self, container: H) -> None:
        self.effects.mark("container_unpaused")
        self.inner.unpause(container)

    def heal_all(self) -> list[str]:
        self.effects.mark("containers_healed")
        return self.inner.heal_all()
