from __future__ import annotations

import json

import pytest

from harness.load.settings import Hotspot, LoadSettings


def settings(**overrides: object) -> LoadSettings:
    values: dict[str, object] = {
        "host": "http://127.0.0.1:8080",
        "users": 100,
        "spawn_rate": 50,
        "duration_s": 180,
        "geography": {"us-east": 70, "us-west": 30},
        "tasks": {"read_user": 6, "create_user": 1, "submit_photo": 3},
        "seed": 7,
        "metrics_host": "172.17.0.1",
        "metrics_port": 9646,
        "run_dir": "/tmp/run",
        "hotspots": [Hotspot(shard=2, share=0.8, celebrities=5, start_s=60, end_s=120)],
    }
    values.update(overrides)
    return LoadSettings(**values)  # type: ignore[arg-type]


def test_json_round_trip_is_equal():
    original = settings()
    text = original.to_json()
    assert json.loads(text)["hotspots"][0]["shard"] == 2
    assert LoadSettings.from_json(text) == original


DNS = {
    "dns_host": "127.0.0.1",
    "dns_port": 5353,
    "dns_name": "app.chaos.test",
    "dns_timeout_s": 0.5,
    "entry_port": 8080,
    "stale_share": 0.3,
    "stale_keep_s": 60.0,
}


def test_dns_settings_round_trip_through_json():
    original = settings(**DNS)
    assert original.uses_dns
    text = original.to_json()
    assert {k: json.loads(text)[k] for k in DNS} == DNS
    assert LoadSettings.from_json(text) == original


def test_without_a_dns_host_requests_go_to_host_as_before():
    plain = settings()
    assert not plain.uses_dns and plain.stale_share == 0.0
    # A settings file written before geo DNS (no dns keys at all) still reads.
    raw = json.loads(plain.to_json())
    for key in DNS:
        raw.pop(key)
    assert LoadSettings.from_json(json.dumps(raw)) == plain


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"stale_share": 1.5}, "stale_share 1.5 must be in 0..1"),
        ({"stale_keep_s": 0}, "stale_keep_s > 0"),
        ({"dns_host": "dns.example"}, "is not an IP address"),
        ({"dns_port": 0}, "must be 1..65535"),
        ({"entry_port": 70000}, "must be 1..65535"),
        ({"dns_name": ""}, "dns_name must not be empty"),
        ({"dns_timeout_s": 0}, "dns_timeout_s must be > 0"),
        ({"dns_host": ""}, "need a dns_host"),
    ],
)
def test_invalid_dns_settings_are_rejected(overrides, words):
    with pytest.raises(ValueError, match=words):
        settings(**(DNS | overrides))


def test_write_and_read(tmp_path):
    original = settings(run_dir=str(tmp_path))
    path = original.write()
    assert path == tmp_path / "load-settings.json"
    assert LoadSettings.read(path) == original


def test_settings_are_frozen_and_keyword_only():
    with pytest.raises(AttributeError):
        settings().users = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        LoadSettings("http://x")  # type: ignore[misc]


@pytest.mark.parametrize(
    "overrides",
    [
        {"geography": {"us-east": 70, "us-west": 20}},
        {"geography": {"us-east": 70, "eu-west": 30}},
        {"tasks": {"read_user": 1, "delete_user": 1}},
        {"tasks": {"read_user": 0}},
        {"users": -1},
        {"think_time_s": (2.0, 1.0)},
    ],
)
def test_invalid_settings_are_rejected(overrides):
    with pytest.raises(ValueError):
        settings(**overrides)


@pytest.mark.parametrize(
    "hotspot",
    [
        {"shard": 4, "share": 0.5, "celebrities": 1, "start_s": 0, "end_s": 1},
        {"shard": 0, "share": 1.5, "celebrities": 1, "start_s": 0, "end_s": 1},
        {"shard": 0, "share": 0.5, "celebrities": 0, "start_s": 0, "end_s": 1},
        {"shard": 0, "share": 0.5, "celebrities": 1, "start_s": 5, "end_s": 5},
    ],
)
def test_invalid_hotspots_are_rejected(hotspot):
    with pytest.raises(ValueError):
        Hotspot(**hotspot)
