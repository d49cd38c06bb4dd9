"""Both data centres the same (issue 14, item 11): the pure comparison of counterparts, and
`harness check` reading the containers through a fake Docker client."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from typer.testing import CliRunner

from harness import cli
from harness.errors import InfraError
from harness.stack import lifecycle, smoke
from harness.stack.config import BUGS, StackConfig
from harness.stack.parity import (
    REGION_SPECIFIC_ENV,
    REGION_SPECIFIC_PATRONI,
    Deployed,
    compare,
    region_of,
    role_of,
)
from harness.stack.patroni import PATRONI_FILE
from harness.stack.spec import ContainerSpec, stack_spec
from tests.fakes import ENDPOINTS, FakeDocker, FakeObj, image_id


def as_deployed(spec: ContainerSpec) -> Deployed:
    """A container made from its spec, as the lifecycle makes it."""
    return Deployed(
        instance=spec.instance,
        service=spec.service,
        image=image_id(spec.image),
        command=tuple(spec.command),
        env=dict(spec.env),
        files=dict(spec.files),
    )


def deployed(config: StackConfig | None = None) -> list[Deployed]:
    return [as_deployed(s) for s in stack_spec(config or StackConfig())]


def change(found: list[Deployed], instance: str, **fields: Any) -> list[Deployed]:
    return [replace(c, **fields) if c.instance == instance else c for c in found]


def by_instance(found: list[Deployed], instance: str) -> Deployed:
    return next(c for c in found if c.instance == instance)


# --- the pure comparison -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "region", "role"),
    [
        ("web-us-east-1", "us-east", "web-<region>-1"),
        ("worker-us-west-2", "us-west", "worker-<region>-2"),
        ("queue-us-east", "us-east", "queue-<region>"),
        ("shard-3-us-west", "us-west", "shard-3-<region>"),
        ("entry-us-west", "us-west", "entry-<region>"),
        ("witness", None, None),
        ("dns", None, None),
        ("us-eastern-thing", None, None),
    ],
)
def test_counterparts_are_found_by_the_region_in_their_name(
    name: str, region: str | None, role: str | None
) -> None:
    assert region_of(name) == region
    if region is not None:
        assert role_of(name, region) == role


@pytest.mark.parametrize(
    "config",
    [
        StackConfig(),
        StackConfig(web_replicas=2, workers_per_region=3, primaries="us-west"),
        StackConfig(replication="async", bugs=frozenset(BUGS)),
    ],
    ids=["default", "more replicas, primaries in us-west", "async, every seeded bug"],
)
def test_a_stack_made_from_its_spec_is_identical(config: StackConfig) -> None:
    parity = compare(deployed(config))
    assert parity.differences == []
    # web and worker replicas, the entry, the queue, every shard's node: one pair each
    expected = config.web_replicas + config.workers_per_region + 1 + 1 + 4
    assert parity.pairs == expected
    assert parity.summary() == (
        f"regions identical: {expected} pairs of containers, same images and configuration"
    )


def test_a_different_image() -> None:
    found = change(deployed(), "worker-us-west-2", image="sha256:" + "0123456789abcdef" * 4)
    [diff] = compare(found).differences
    assert diff.key == "image"
    app = image_id("chaos-harness/app:latest")[:19]
    assert diff.message() == (
        "worker-us-east-2 vs worker-us-west-2: image differs: "
        f"{app} in us-east, sha256:0123456789ab in us-west"
    )


def test_a_different_environment_value() -> None:
    found = deployed()
    web = by_instance(found, "web-us-west-1")
    found = change(found, "web-us-west-1", env={**web.env, "BUG_STALE_READS": "1"})
    parity = compare(found)
    assert not parity.identical
    [diff] = parity.differences
    assert diff.message() == (
        "web-us-east-1 vs web-us-west-1: env BUG_STALE_READS differs: "
        "'0' in us-east, '1' in us-west"
    )
    assert parity.summary() == (
        "regions differ: 1 difference between us-east and us-west (9 pairs of containers compared)"
    )


def test_an_extra_environment_key() -> None:
    found = deployed()
    node = by_instance(found, "shard-2-us-east")
    found = change(found, "shard-2-us-east", env={**node.env, "PGOPTIONS": "-c work_mem=1GB"})
    [diff] = compare(found).differences
    assert diff.key == "env PGOPTIONS"
    assert diff.values == {"us-east": "'-c work_mem=1GB'", "us-west": "(not set)"}


def test_a_region_specific_key_may_differ_in_value_but_not_be_missing() -> None:
    found = deployed()
    node = by_instance(found, "shard-0-us-west")
    assert node.env["ETCD_ADDR"] != by_instance(found, "shard-0-us-east").env["ETCD_ADDR"]
    env = {k: v for k, v in node.env.items() if k != "ETCD_ADDR"}
    [diff] = compare(change(found, "shard-0-us-west", env=env)).differences
    assert diff.key == "env ETCD_ADDR"
    assert diff.values == {"us-east": "(differs by region)", "us-west": "(not set)"}


def test_both_nodes_of_a_shard_must_share_its_leader_key() -> None:
    found = deployed()
    node = by_instance(found, "shard-1-us-west")
    found = change(found, "shard-1-us-west", env={**node.env, "LEADER_KEY": "/chaos/other"})
    [diff] = compare(found).differences
    assert diff.key == "env LEADER_KEY"


def test_a_missing_counterpart() -> None:
    found = [c for c in deployed() if c.instance != "worker-us-west-2"]
    parity = compare(found)
    [diff] = parity.differences
    assert diff.key == "missing"
    assert diff.message() == (
        "worker-us-east-2: no counterpart in us-west (expected worker-us-west-2)"
    )
    assert parity.pairs == 8


def test_a_different_command() -> None:
    found = change(deployed(), "web-us-east-1", command=("python3", "/app/web.py", "--debug"))
    [diff] = compare(found).differences
    assert diff.key == "command"
    assert diff.values == {
        "us-east": "python3 /app/web.py --debug",
        "us-west": "python3 /app/web.py",
    }


def test_a_different_patroni_setting_names_the_field() -> None:
    found = deployed()
    node = by_instance(found, "shard-3-us-west")
    config = json.loads(node.files[PATRONI_FILE])
    config["bootstrap"]["dcs"]["ttl"] = 30
    config["postgresql"]["parameters"]["shared_buffers"] = "1GB"
    found = change(found, "shard-3-us-west", files={PATRONI_FILE: json.dumps(config)})
    diffs = compare(found).differences
    assert [d.key for d in diffs] == [
        f"file {PATRONI_FILE}: bootstrap.dcs.ttl",
        f"file {PATRONI_FILE}: postgresql.parameters.shared_buffers",
    ]
    assert diffs[0].values == {"us-east": "12", "us-west": "30"}
    assert diffs[0].message().startswith("shard-3-us-east vs shard-3-us-west: file")


def test_a_patroni_file_that_does_not_parse_is_a_difference() -> None:
    found = change(deployed(), "shard-0-us-east", files={PATRONI_FILE: "{not: [yaml"})
    diffs = compare(found).differences
    assert f"file {PATRONI_FILE}: (unreadable)" in [d.key for d in diffs]


def test_only_the_region_specific_patroni_fields_are_left_out() -> None:
    """Each excused field really differs between a shard's nodes, and nothing else does:
    a field patroni.py makes region-specific later must be excused here on purpose."""
    east, west = (
        json.loads(as_deployed(s).files[PATRONI_FILE])
        for s in stack_spec(StackConfig())
        if s.instance in ("shard-0-us-east", "shard-0-us-west")
    )

    def get(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
        for key in path:
            doc = doc[key]
        return doc

    for path in REGION_SPECIFIC_PATRONI:
        assert get(east, path) != get(west, path), path


def test_every_excused_environment_key_really_differs_by_region() -> None:
    found = deployed()
    differing = set()
    for c in found:
        region = region_of(c.instance)
        if region != "us-east":
            continue
        twin = by_instance(found, c.instance.replace("us-east", "us-west"))
        differing |= {k for k, v in c.env.items() if twin.env.get(k) != v}
    assert differing == set(REGION_SPECIFIC_ENV)


def test_the_entries_may_differ_only_in_the_region_they_serve() -> None:
    found = deployed()
    east, west = by_instance(found, "entry-us-east"), by_instance(found, "entry-us-west")
    assert {k for k in east.env if east.env[k] != west.env[k]} == {"ENTRY_REGION", "WEB_ADDR"}
    # us-west's entry left by an older harness, which set ROLE=entry: a key set in one region only
    found = change(found, "entry-us-west", env={**west.env, "ROLE": "entry"})
    [diff] = compare(found).differences
    assert diff.message() == (
        "entry-us-east vs entry-us-west: env ROLE differs: (not set) in us-east, 'entry' in us-west"
    )


def test_containers_of_no_region_are_not_compared() -> None:
    found = change(deployed(), "toxiproxy", image="sha256:elsewhere")
    found = change(found, "dns", files={})
    assert compare(found).identical


# --- `harness check` through the Docker SDK (a fake client) --------------------------------
@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> FakeDocker:
    """A stack as `bring_up` creates it in a fake engine, left running."""
    monkeypatch.setattr(lifecycle, "ensure_images", lambda client, progress: {})
    for waited in ("wait_healthy", "wait_routed", "wait_replicated"):
        monkeypatch.setattr(lifecycle, waited, lambda *a, **k: None)
    monkeypatch.setattr(lifecycle, "discover_endpoints", lambda *a: ENDPOINTS)
    fake = FakeDocker()
    lifecycle.bring_up(fake, StackConfig(name="lab"), timeout_s=1, progress=lambda m: None)  # type: ignore[arg-type]
    return fake


def container(fake: FakeDocker, instance: str) -> FakeObj:
    return fake.containers.get(f"chaos-lab-{instance}")


def test_the_containers_bring_up_creates_are_identical(client: FakeDocker) -> None:
    assert smoke.check_regions_identical(client, "lab") == (  # type: ignore[arg-type]
        "regions identical: 9 pairs of containers, same images and configuration"
    )
    parity, note = smoke.region_parity(client, "lab")  # type: ignore[arg-type]
    assert note is None and parity.pairs == 9
    east = container(client, "shard-0-us-east")
    # what the adapter read: Docker's env list, the image id, the files from the spec
    node = smoke.deployed(east, {})  # type: ignore[arg-type]
    assert node.instance == "shard-0-us-east"
    assert node.image == image_id("chaos-harness/shard:latest")
    assert node.env["BOOTSTRAP"] == "leader"


def test_a_changed_container_fails_the_check_naming_it_and_the_key(client: FakeDocker) -> None:
    env = container(client, "worker-us-west-1").attrs["Config"]["Env"]
    env[env.index("PHOTO_FETCH_MS=200")] = "PHOTO_FETCH_MS=1000"
    container(client, "queue-us-east").attrs["Image"] = "sha256:" + "9" * 64
    with pytest.raises(InfraError) as caught:
        smoke.check_regions_identical(client, "lab")  # type: ignore[arg-type]
    err = caught.value
    assert err.exit_code == 3
    assert "regions differ: 2 differences between us-east and us-west" in err.message
    assert err.detail is not None
    assert err.detail.splitlines() == [
        "  queue-us-east vs queue-us-west: image differs: "
        f"sha256:999999999999 in us-east, {image_id('chaos-harness/queue:latest')[:19]} in us-west",
        "  worker-us-east-1 vs worker-us-west-1: env PHOTO_FETCH_MS differs: "
        "'200' in us-east, '1000' in us-west",
    ]


def test_a_removed_container_is_a_missing_counterpart(client: FakeDocker) -> None:
    container(client, "shard-2-us-west").remove()
    with pytest.raises(InfraError) as caught:
        smoke.check_regions_identical(client, "lab")  # type: ignore[arg-type]
    assert "shard-2-us-east: no counterpart in us-west (expected shard-2-us-west)" in str(
        caught.value.detail
    )


def test_a_stack_without_its_config_label_compares_all_but_the_files(client: FakeDocker) -> None:
    for c in client.containers.items:
        c.labels.pop(lifecycle.CONFIG, None)
    line = smoke.check_regions_identical(client, "lab")  # type: ignore[arg-type]
    assert line.startswith("regions identical: 9 pairs")
    assert "configuration files not compared" in line


def test_no_stack_is_not_identical() -> None:
    with pytest.raises(InfraError, match="no container of either region"):
        smoke.check_regions_identical(FakeDocker(), "lab")  # type: ignore[arg-type]


def _check(monkeypatch: pytest.MonkeyPatch, fake: FakeDocker) -> Any:
    import harness.stack.docker_client as docker_client

    monkeypatch.setattr(docker_client, "connect", lambda: fake)
    monkeypatch.setattr(lifecycle, "discover_endpoints", lambda client, stack: ENDPOINTS)
    monkeypatch.setattr(smoke, "check_stack", lambda endpoints: [])
    return CliRunner().invoke(cli.app, ["check", "--stack", "lab"])


def test_harness_check_prints_the_parity_line(
    client: FakeDocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = _check(monkeypatch, client)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == (
        "regions identical: 9 pairs of containers, same images and configuration"
    )


def test_harness_check_fails_on_a_difference(
    client: FakeDocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    container(client, "web-us-east-1").attrs["Config"]["Cmd"] = ["python3", "/app/other.py"]
    done = _check(monkeypatch, client)
    assert done.exit_code == 3
    assert "the two data centres of stack 'lab' differ" in done.output
    assert "web-us-east-1 vs web-us-west-1: command differs" in done.output
