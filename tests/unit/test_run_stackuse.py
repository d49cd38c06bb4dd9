"""--reuse-stack against a running stack whose config differs from the scenario's `stack:`
block: exit 2 naming each difference, never a run on the wrong stack."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.errors import EXIT_USAGE, UsageError
from harness.run.options import RunOptions
from harness.run.stackuse import acquire_stack, check_reusable, stack_config
from harness.scenario.model import Scenario
from harness.stack import labels
from harness.stack.config import StackConfig, differences
from harness.stack.lifecycle import CONFIG, CONFIG_HASH, config_hash
from tests.fakes import FakeDocker

LOAD = {"users": 2, "spawn_rate": 2, "duration": "10s", "geography": {"us-east": 100}}


def running(client: FakeDocker, config: StackConfig, *, with_json: bool = True) -> None:
    """Containers as `bring_up` labels them (two are enough: every one carries the config)."""
    own = {**labels.stack_labels(config.name, labels.OWNER_UP), CONFIG_HASH: config_hash(config)}
    if with_json:
        own[CONFIG] = config.as_json()
    for instance in ("entry-us-east", "web-us-east-1"):
        client.containers.create("img", name=f"chaos-{config.name}-{instance}", labels=dict(own))


def scenario(**stack: Any) -> Scenario:
    fields: dict[str, Any] = {"name": "unit", "load": LOAD}
    if stack:
        fields["stack"] = stack
    return Scenario.model_validate(fields)


def test_no_stack_block_against_a_running_default_stack_is_fine() -> None:
    client = FakeDocker()
    running(client, StackConfig(name="default"))
    check_reusable(client, stack_config(scenario(), "default"))


@pytest.mark.parametrize(
    ("stack", "said"),
    [
        ({"web_replicas": 2}, "scenario asks web_replicas 2, the running stack 'default' has 1"),
        ({"web_replicas": 2, "bugs": ["failover_off"]},
         "scenario asks web_replicas 2, the running stack 'default' has 1;"
         " bugs [failover_off] vs []"),
        ({"workers_per_region": 3}, "scenario asks workers_per_region 3, the running stack"),
        ({"wan_latency_ms": 80},
         "scenario asks wan_latency_ms 80, the running stack 'default' has 35"),
        ({"replication": "async", "primaries": "us-west"},
         "scenario asks replication async, the running stack 'default' has sync;"
         " primaries us-west vs spread"),
    ],
    ids=["replicas", "replicas and bugs", "workers", "wan latency", "replication and placement"],
)  # fmt: skip
def test_a_differing_stack_block_is_a_usage_error_naming_the_difference(
    stack: dict[str, Any], said: str
) -> None:
    client = FakeDocker()
    running(client, StackConfig(name="default"))
    with pytest.raises(UsageError) as caught:
        check_reusable(client, stack_config(scenario(**stack), "default"))
    assert caught.value.exit_code == EXIT_USAGE
    assert caught.value.message.startswith(f"--reuse-stack: {said}")
    assert "drop --reuse-stack" in (caught.value.hint or "")


def test_a_stack_without_the_config_label_is_compared_by_its_hash() -> None:
    client = FakeDocker()
    running(client, StackConfig(name="default"), with_json=False)
    check_reusable(client, stack_config(scenario(), "default"))
    with pytest.raises(UsageError, match="started with another config"):
        check_reusable(client, stack_config(scenario(web_replicas=2), "default"))


def test_acquire_with_reuse_refuses_before_touching_the_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = FakeDocker()
    running(client, StackConfig(name="default"))
    up = SimpleNamespace(services=[SimpleNamespace(name="entry-us-east", image="img")])
    monkeypatch.setattr("harness.run.stackuse.stack_status", lambda c, name: up)
    healed: list[str] = []
    monkeypatch.setattr("harness.run.stackuse.DockerContainers",
                        lambda c, name: healed.append(name))  # fmt: skip
    options = RunOptions(scenario_path=Path("s.yaml"), reuse_stack=True)
    with pytest.raises(
        UsageError,
        match=r"scenario asks bugs \[failover_off\], the running stack .default. has \[\]",
    ):
        acquire_stack(client, scenario(bugs=["failover_off"]), options, say=lambda m: None)
    assert healed == []  # refused before healing or waiting on the stack


def test_config_round_trips_through_its_label() -> None:
    config = StackConfig(name="x", web_replicas=2, bugs=frozenset({"no_reclaim"}))
    assert StackConfig.from_json(config.as_json(), name="x") == config
    assert differences(config, config) == []
    with pytest.raises(ValueError):
        StackConfig.from_json('{"web_replicas": 1}', name="x")
