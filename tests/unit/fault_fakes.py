"""Fakes of the adapters faults use: they record calls and hold state like the real ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.faults.runtime import FaultContext
from harness.stack import topology as t


class FakeToxiproxy:
    def __init__(self) -> None:
        self.enabled = {name: True for name in t.LINK_NAMES}
        self.toxics: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in t.LINK_NAMES}
        self.calls: list[tuple[str, ...]] = []
        self.fail_on: str | None = None

    def set_enabled(self, name: str, enabled: bool) -> None:
        if self.fail_on == name:
            raise RuntimeError(f"toxiproxy down for {name}")
        self.calls.append(("enable" if enabled else "disable", name))
        self.enabled[name] = enabled

    def add_toxic(self, proxy: str, *, name: str, type: str, attributes: dict[str, Any],
                  stream: str = "downstream", toxicity: float = 1.0) -> None:  # fmt: skip
        self.calls.append(("add", proxy, name))
        self.toxics[proxy][name] = {"type": type, "attributes": attributes, "stream": stream,
                                    "toxicity": toxicity}  # fmt: skip

    def remove_toxic(self, proxy: str, name: str) -> None:
        self.calls.append(("remove", proxy, name))
        self.toxics[proxy].pop(name, None)

    def dirty(self) -> list[str]:
        return [n for n, e in self.enabled.items() if not e] + [
            f"{n}:{x}" for n, ts in self.toxics.items() for x in ts
        ]


@dataclass
class FakeContainer:
    name: str
    status: str = "running"


@dataclass
class FakeContainers:
    services: dict[str, list[str]]
    containers: dict[str, FakeContainer] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for names in self.services.values():
            for n in names:
                self.containers[n] = FakeContainer(n)

    def instances(self, target: str) -> list[FakeContainer]:
        names = self.services.get(target, [target] if target in self.containers else [])
        if not names:
            raise KeyError(target)
        return [self.containers[n] for n in names]

    def _set(self, verb: str, c: FakeContainer, status: str) -> None:
        self.calls.append((verb, c.name))
        c.status = status

    def kill(self, c: FakeContainer) -> None:
        self._set("kill", c, "exited")

    def stop(self, c: FakeContainer) -> None:
        self._set("stop", c, "exited")

    def start(self, c: FakeContainer) -> None:
        self._set("start", c, "running")

    def pause(self, c: FakeContainer) -> None:
        self._set("pause", c, "paused")

    def unpause(self, c: FakeContainer) -> None:
        self._set("unpause", c, "running")

    busy: bool = True

    def wait_worker_busy(self, c: FakeContainer, timeout_s: float) -> bool:
        self.calls.append(("busy?", c.name))
        return self.busy

    def down(self) -> list[str]:
        return [c.name for c in self.containers.values() if c.status != "running"]


def default_services() -> dict[str, list[str]]:
    services: dict[str, list[str]] = {
        "geo-router": ["geo-router"], "queue": ["queue"], "shard-2": ["shard-2"],
    }  # fmt: skip
    for r in t.REGIONS:
        services[f"web-{r}"] = [f"web-{r}-1"]
        services[f"worker-{r}"] = [f"worker-{r}-1", f"worker-{r}-2"]
    return services


def make_context(
    tox: FakeToxiproxy | None = None, containers: FakeContainers | None = None
) -> tuple[FaultContext, FakeToxiproxy, FakeContainers, list[tuple[str, str]]]:
    tox = tox or FakeToxiproxy()
    containers = containers or FakeContainers(default_services())
    events: list[tuple[str, str]] = []
    ctx = FaultContext(
        toxiproxy=tox,  # type: ignore[arg-type]
        containers=containers,  # type: ignore[arg-type]
        event=lambda kind, msg: events.append((kind, msg)),
        label="f0",
    )
    return ctx, tox, containers, events
