"""The pure helpers of the bundled stack's app image (target-stack/app/common.py).

common.py imports nothing outside the standard library at module level, so it loads here
without the image's packages; the photo work needs Pillow and is skipped without it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.spec import stack_spec
from harness.vocabulary import COMMIT_TIME_HEADER, COMMIT_TIMELINE_HEADER, COMMITTED_BY_HEADER

APP_DIR = Path(__file__).resolve().parents[2] / "target-stack" / "app"


def _load_common() -> ModuleType:
    spec = importlib.util.spec_from_file_location("target_stack_common", APP_DIR / "common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is made
    spec.loader.exec_module(module)
    return module


common = _load_common()


def by_instance(config: StackConfig) -> dict[str, Any]:
    return {spec.instance: spec for spec in stack_spec(config)}


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


def test_write_addrs_are_each_shards_nodes_in_shard_order() -> None:
    value = "toxiproxy:22000|toxiproxy:23010,b:2|c:3,d:4,e:5|f:6|g:7"
    assert common.parse_write_addrs(value) == [
        [("toxiproxy", 22000), ("toxiproxy", 23010)],
        [("b", 2), ("c", 3)],
        [("d", 4)],  # a shard with one node is fine: its primary is that node
        [("e", 5), ("f", 6), ("g", 7)],
    ]


def test_the_stacks_write_addrs_parse_local_copy_first() -> None:
    web = by_instance(StackConfig())["web-us-west-1"]
    parsed = common.parse_write_addrs(web.env["SHARD_WRITE_ADDRS"])
    assert parsed == [
        [
            ("toxiproxy", t.shard_link(s, "us-west").listen_port),
            ("toxiproxy", t.wan_pg_link(s, "us-east").listen_port),
        ]
        for s in range(t.SHARD_COUNT)
    ]


@pytest.mark.parametrize("bad", ["a:1|b:2,c:3", "a:1,b:2,c:3,d:4,e:5", "a:1,b:2,c:3,d", ""])
def test_write_addrs_need_every_shard_and_valid_addresses(bad: str) -> None:
    with pytest.raises(ValueError):
        common.parse_write_addrs(bad)


def test_settings_read_the_write_addrs_when_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION", "us-east")
    monkeypatch.setenv("QUEUE_ADDR", "toxiproxy:21000")
    monkeypatch.setenv("SHARD_ADDRS", "s:1,s:2,s:3,s:4")
    monkeypatch.delenv("SHARD_WRITE_ADDRS", raising=False)
    assert common.Settings.from_env().shard_write_addrs is None  # writes go to SHARD_ADDRS
    monkeypatch.setenv("SHARD_WRITE_ADDRS", "s:1|w:1,s:2|w:2,s:3|w:3,s:4|w:4")
    settings = common.Settings.from_env()
    assert settings.shard_write_addrs is not None
    assert settings.shard_write_addrs[2] == [("s", 3), ("w", 3)]
    assert settings.shard_addrs[2] == ("s", 3)  # reads stay on the region's own copy


@pytest.mark.parametrize(
    ("walfile", "timeline"),
    [
        ("000000010000000000000001", 1),
        ("000000030000000000000004", 3),
        ("0000000A00000002000000FF", 10),
        ("000001000000000000000000", 256),
    ],
)
def test_the_timeline_is_the_wal_files_first_eight_hex_digits(walfile: str, timeline: int) -> None:
    assert common.timeline_of_walfile(walfile) == timeline


def test_a_name_that_is_no_wal_file_has_no_timeline() -> None:
    with pytest.raises(ValueError):
        common.timeline_of_walfile("not-a-walfile")


def test_the_web_tier_names_the_commit_in_the_headers_the_ledger_reads() -> None:
    web = (APP_DIR / "web.py").read_text()
    for header in (COMMITTED_BY_HEADER, COMMIT_TIMELINE_HEADER, COMMIT_TIME_HEADER):
        assert f'"{header}"' in web


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
