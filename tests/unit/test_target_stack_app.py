"""The pure helpers of the bundled stack's app image (target-stack/app/common.py).

common.py imports nothing outside the standard library at module level, so it loads here
without the image's packages; the photo work needs Pillow and is skipped without it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from harness.stack import topology as t

APP_DIR = Path(__file__).resolve().parents[2] / "target-stack" / "app"


def _load_common() -> ModuleType:
    spec = importlib.util.spec_from_file_location("target_stack_common", APP_DIR / "common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is made
    spec.loader.exec_module(module)
    return module


common = _load_common()


def test_constants_match_the_topology_contract() -> None:
    assert common.SHARD_COUNT == t.SHARD_COUNT
    assert common.STREAM == t.QUEUE_STREAM
    assert common.GROUP == t.QUEUE_GROUP


@pytest.mark.parametrize("user_id", [0, 1, 5, 7, 10, 4_000_000_003])
def test_shard_rule_is_the_topologys(user_id: int) -> None:
    assert common.shard_of(user_id) == t.shard_of(user_id)


def test_parse_addr() -> None:
    assert common.parse_addr("toxiproxy:21000") == ("toxiproxy", 21000)
    assert common.parse_addr(" queue:6379 ") == ("queue", 6379)
    for bad in ("toxiproxy", ":1", "host:", "host:http"):
        with pytest.raises(ValueError):
            common.parse_addr(bad)


def test_shard_addrs_are_four_in_order() -> None:
    addrs = ",".join(f"toxiproxy:{t.shard_link(s, 'us-west').listen_port}" for s in range(4))
    assert common.parse_shard_addrs(addrs) == [("toxiproxy", 22010 + s) for s in range(4)]
    with pytest.raises(ValueError, match="4 addresses"):
        common.parse_shard_addrs("a:1,b:2")


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION", "us-west")
    monkeypatch.setenv("QUEUE_ADDR", "toxiproxy:21001")
    monkeypatch.setenv("SHARD_ADDRS", "s:1,s:2,s:3,s:4")
    settings = common.Settings.from_env()
    assert settings.region == "us-west"
    assert settings.queue_addr == ("toxiproxy", 21001)
    assert settings.shard_addrs[3] == ("s", 4)
    assert (settings.db_name, settings.db_user) == (t.DB_NAME, t.DB_USER)


def test_job_id_names_its_user_and_so_its_shard() -> None:
    job_id = common.new_job_id(4_000_000_003, "0123456789abcdef")
    assert job_id == "4000000003-0123456789abcdef"
    assert common.user_of_job(job_id) == 4_000_000_003
    for bad in ("garbage", "-abc", "12-", "x1-abc"):
        with pytest.raises(ValueError):
            common.user_of_job(bad)


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), ("", False)])
def test_env_flag(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("BUG_X", value)
    assert common.env_flag("BUG_X") is expected


def test_describe_errors() -> None:
    assert common.describe(TimeoutError()) == "TimeoutError"
    assert common.describe(ConnectionError("refused")) == "ConnectionError: refused"


def test_photo_work_is_deterministic() -> None:
    pytest.importorskip("PIL")
    blur = common.render_photo("5-abc", "blur")
    assert blur == common.render_photo("5-abc", "blur")
    assert blur != common.render_photo("5-abc", "sharpen")
    assert blur != common.render_photo("9-abc", "blur")
    with pytest.raises(ValueError):
        common.render_photo("5-abc", "rotate")
