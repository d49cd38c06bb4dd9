"""The geo DNS server's files: the LUA record per subnet, the checks, pdns.conf, determinism.

The zone file is parsed with dnspython's master-file parser (quotes, chunks, parentheses, TTLs),
with a LUA type registered for it. Its Lua code is joined from the chunks as PowerDNS 4.7 joins
them and, where lupa is installed, run under LuaJIT (what Debian's PowerDNS embeds) with
PowerDNS's `netmask` and `ifurlextup` stood in for.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import dns.exception
import dns.immutable
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer
import dns.zone
import pytest

from harness.stack import dns_zone as dz
from harness.stack import topology as t
from harness.vocabulary import (
    CLIENT_SUBNETS,
    DEFAULT_DNS_CHECK_INTERVAL_S,
    DEFAULT_DNS_TTL_S,
    ENTRY_ADDRESSES,
    REGIONS,
    SERVICE_NAME,
)

IMAGE = Path(__file__).resolve().parents[2] / "target-stack" / "dns"
LUA_TYPE = 65402  # PowerDNS's number for its LUA record type


@dns.immutable.immutable
class LUA(dns.rdata.Rdata):
    """PowerDNS's LUA record as its zone files write it: a query type, then quoted chunks."""

    __slots__ = ["chunks", "qtype"]

    def __init__(self, rdclass: Any, rdtype: Any, qtype: Any, chunks: Iterable[str]) -> None:
        super().__init__(rdclass, rdtype)
        self.qtype = dns.rdatatype.RdataType.make(qtype)
        self.chunks = tuple(chunks)

    def to_text(self, origin: Any = None, relativize: bool = True, **kw: Any) -> str:
        chunks = " ".join(f'"{c}"' for c in self.chunks)
        return f"{dns.rdatatype.to_text(self.qtype)} {chunks}"

    @classmethod
    def from_text(
        cls,
        rdclass: Any,
        rdtype: Any,
        tok: dns.tokenizer.Tokenizer,
        origin: Any = None,
        relativize: bool = True,
        relativize_to: Any = None,
    ) -> LUA:
        qtype = dns.rdatatype.from_text(tok.get_string())
        chunks = []
        for token in tok.get_remaining():
            if not token.is_quoted_string():
                raise dns.exception.SyntaxError(f"a LUA chunk must be quoted: {token.value}")
            chunks.append(token.value)
        return cls(rdclass, rdtype, qtype, chunks)

    def _to_wire(
        self, file: Any, compress: Any = None, origin: Any = None, canonicalize: bool = False
    ) -> None:
        # As PowerDNS sends it in a transfer: the type, then each chunk length-prefixed.
        file.write(self.qtype.to_bytes(2, "big"))
        for chunk in self.chunks:
            data = chunk.encode()
            file.write(bytes([len(data)]) + data)


with contextlib.suppress(dns.rdata.RdatatypeExists):  # registered by an earlier import
    dns.rdata.register_type(LUA, LUA_TYPE, "LUA")


def lua_record(text: str) -> tuple[int, LUA]:
    """The zone's one LUA rdata, with its TTL."""
    zone = dns.zone.from_text(text, check_origin=True)
    node = zone.get_node(SERVICE_NAME.partition(".")[0])
    assert node is not None
    [rdataset] = node.rdatasets
    assert rdataset.rdtype == LUA_TYPE
    [rdata] = rdataset
    assert isinstance(rdata, LUA)
    return rdataset.ttl, rdata


def code_47(chunks: Iterable[str]) -> str:
    """What PowerDNS 4.7 runs: the record's text split at every quote, the parts joined with a
    space (LUARecordContent::getCode), then `return ` prepended unless it starts with `;`."""
    text = " ".join(f'"{c}"' for c in chunks)
    code = "".join(part + " " for part in text.split('"') if part)
    return code[1:] if code.startswith(";") else "return " + code


def code_50(chunks: Iterable[str]) -> str:
    """PowerDNS 5.0's join: no whitespace added."""
    code = "".join(chunks)
    return code[1:] if code.startswith(";") else "return " + code


SETTINGS = dz.dns_settings()
STATIC = dz.dns_settings(static=True)
EAST, WEST = REGIONS
CHECK = {r: f"http://toxiproxy:{t.edge_link(r).listen_port}/healthz" for r in REGIONS}


def test_the_bundled_settings_check_each_entry_through_its_edge_link() -> None:
    assert SETTINGS.ttl_s == DEFAULT_DNS_TTL_S
    assert SETTINGS.check_interval_s == DEFAULT_DNS_CHECK_INTERVAL_S
    assert [r.region for r in SETTINGS.regions] == list(REGIONS)
    for r in SETTINGS.regions:
        assert r.address == ENTRY_ADDRESSES[r.region]
        assert r.subnet == CLIENT_SUBNETS[r.region]
        assert r.check_url == CHECK[r.region]
    assert CHECK[EAST] == "http://toxiproxy:20000/healthz"
    assert (SETTINGS.zone, SETTINGS.host) == ("chaos.test", "app")


def test_the_zone_parses_with_soa_ns_and_one_lua_a_record_of_the_ttl() -> None:
    text = dz.zone_file(dz.dns_settings(ttl_s=7))
    zone = dns.zone.from_text(text, check_origin=True)
    assert str(zone.origin) == "chaos.test."
    soa = zone.find_rdataset("@", "SOA")[0]
    assert soa.minimum == 7  # negative answers cached no longer than an answer
    assert str(zone.find_rdataset("@", "NS")[0].target) == "ns"
    ttl, record = lua_record(text)
    assert ttl == 7
    assert record.qtype == dns.rdatatype.A


@pytest.mark.parametrize("settings", [SETTINGS, STATIC], ids=["checked", "dns_static"])
def test_the_code_holds_nothing_the_4_7_join_would_break(settings: dz.DnsSettings) -> None:
    _, record = lua_record(dz.zone_file(settings))
    assert list(record.chunks) == [c[1:-1] for c in dz.lua_chunks(settings)]
    assert record.chunks[0].startswith(";")  # multi-statement: no `return` prepended
    assert all(chunk.endswith(" ") for chunk in record.chunks[:-1])
    assert all(len(chunk) <= 255 for chunk in record.chunks)
    assert not any('"' in c or "\\" in c for c in record.chunks)
    # both joins give the same statements
    assert code_47(record.chunks).split() == code_50(record.chunks).split()


def branches(code: str) -> dict[str, str]:
    """Per client subnet (and `default`), the expression the code returns."""
    code = " ".join(code.split())
    found = dict(re.findall(r"if netmask\(\{'([^']+)'\}\) then return (.+?) end", code))
    tail = re.findall(r"\bend return (.+?)\s*$", code)
    found["default"] = tail[0]
    return found


def test_each_subnet_gets_its_home_entry_first_and_unknown_subnets_the_first_region() -> None:
    code = code_47(lua_record(dz.zone_file(SETTINGS))[1].chunks)
    assert re.search(
        r"local g=\{\{\['127\.0\.1\.1'\]='http://toxiproxy:20000/healthz'\},"
        r"\{\['127\.0\.2\.1'\]='http://toxiproxy:20001/healthz'\}\}",
        code,
    )
    assert branches(code) == {
        CLIENT_SUBNETS[EAST]: "ifurlextup({g[1],g[2]},o)",
        CLIENT_SUBNETS[WEST]: "ifurlextup({g[2],g[1]},o)",
        "default": "ifurlextup({g[1],g[2]},o)",
    }


def test_every_check_has_the_same_options_so_each_url_is_checked_once() -> None:
    code = code_47(lua_record(dz.zone_file(SETTINGS))[1].chunks)
    assert "local o={timeout='1'}" in code
    assert code.count("ifurlextup(") == len(REGIONS) + 1
    assert code.count(",o)") == len(REGIONS) + 1
    # a hanging check does not stretch the default interval (4.7 waits for a whole round)
    assert DEFAULT_DNS_CHECK_INTERVAL_S > dz.CHECK_TIMEOUT_S


def test_dns_static_answers_by_subnet_with_no_health_check() -> None:
    text = dz.zone_file(STATIC)
    code = code_47(lua_record(text)[1].chunks)
    for word in ("ifurlextup", "ifurlup", "ifportup", "http", "timeout"):
        assert word not in code
    assert branches(code) == {
        CLIENT_SUBNETS[EAST]: "'127.0.1.1'",
        CLIENT_SUBNETS[WEST]: "'127.0.2.1'",
        "default": "'127.0.1.1'",
    }
    assert "dns_static" in text


def conf(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    pairs = [line.split("=", 1) for line in lines]
    assert all(len(p) == 2 for p in pairs)
    names = [p[0] for p in pairs]
    assert len(names) == len(set(names)), "a setting given twice"
    return dict(pairs)


def test_pdns_conf_has_the_settings_the_record_and_the_stack_need() -> None:
    settings = conf(dz.pdns_conf(dz.dns_settings(check_interval_s=3)))
    assert settings == {
        "launch": "bind",
        "bind-config": dz.NAMED_CONF_FILE,
        "local-address": "0.0.0.0",
        "local-port": "53",
        "setuid": "pdns",
        "setgid": "pdns",
        "socket-dir": dz.SOCKET_DIR,
        "write-pid": "no",
        "enable-lua-records": "yes",
        "edns-subnet-processing": "yes",
        "lua-health-checks-interval": "3",
        "lua-health-checks-expire-delay": "86400",
        "security-poll-suffix": "",  # no query to the internet at start
        "webserver": "yes",
        "webserver-address": "0.0.0.0",
        "webserver-port": str(dz.METRICS_PORT),
        "webserver-allow-from": "0.0.0.0/0",
        "webserver-loglevel": "none",
        "api": "no",
        "disable-syslog": "yes",
        "log-timestamp": "no",
        "loglevel": "4",
        "log-dns-queries": "no",
        "log-dns-details": "no",
    }


def test_no_per_check_option_that_4_7_does_not_have() -> None:
    # `interval` and `minimumFailures` came with PowerDNS 5.0 (pdns PR 14996): 4.7 has the
    # global lua-health-checks-interval only.
    code = code_47(lua_record(dz.zone_file(SETTINGS))[1].chunks)
    assert "interval" not in code and "minimumFailures" not in code


def test_named_conf_names_the_zone_file() -> None:
    text = dz.named_conf(SETTINGS)
    assert 'zone "chaos.test" {' in text
    assert "type master;" in text
    assert f'file "{dz.ZONE_FILE}";' in text


def test_the_files_are_what_the_container_gets_and_are_deterministic() -> None:
    files = dz.dns_files(SETTINGS)
    assert set(files) == {dz.PDNS_CONF_FILE, dz.NAMED_CONF_FILE, dz.ZONE_FILE}
    assert all(path.startswith(dz.CONFIG_DIR + "/") for path in files)
    assert all(content.endswith("\n") for content in files.values())
    assert files == dz.dns_files(dz.dns_settings())
    assert dz.dns_files(STATIC) != files


def test_the_image_runs_pdns_in_the_foreground_on_the_files_the_harness_writes() -> None:
    entrypoint = (IMAGE / "entrypoint.sh").read_text()
    assert f"CONFIG_DIR={dz.CONFIG_DIR}\n" in entrypoint
    for path in dz.dns_files(SETTINGS):
        assert f'"$CONFIG_DIR/{Path(path).name}"' in entrypoint  # checked before the start
    assert 'exec pdns_server --daemon=no --guardian=no --config-dir="$CONFIG_DIR"' in entrypoint
    dockerfile = (IMAGE / "Dockerfile").read_text()
    assert "apt-get install -y --no-install-recommends pdns-server pdns-backend-bind" in dockerfile
    assert f"mkdir -p {dz.SOCKET_DIR} && chown pdns:pdns {dz.SOCKET_DIR}" in dockerfile
    assert f"EXPOSE {dz.DNS_PORT}/udp {dz.DNS_PORT}/tcp {dz.METRICS_PORT}\n" in dockerfile
    # Debian's own config is gone: only the harness's files are read
    assert (
        "rm -rf /etc/powerdns/pdns.conf /etc/powerdns/pdns.d /etc/powerdns/named.conf" in dockerfile
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ttl_s": 0}, "ttl_s must be at least 1"),
        ({"check_interval_s": 0}, "check_interval_s must be at least 1"),
        ({"regions": ()}, "no regions"),
        ({"name": "chaos.test"}, "must be a host in a zone"),
        ({"address": "::1"}, "is not IPv4"),
        ({"address": "entry"}, "is not an IP address"),
        ({"subnet": "198.51.100.0/33"}, "is not a network"),
        ({"check_url": "toxiproxy:20000"}, "is not an http(s) URL"),
        ({"check_url": "http://toxiproxy:20000/it's"}, "holds a quote"),
        ({"check_url": 'http://toxiproxy:20000/"'}, "holds a quote"),
        ({"check_url": "http://toxiproxy:20000/a\\b"}, "holds a quote, backslash"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(change: dict[str, Any], message: str) -> None:
    region = dict(
        region=EAST, address="127.0.1.1", check_url=CHECK[EAST], subnet=CLIENT_SUBNETS[EAST]
    )
    top: dict[str, Any] = {"ttl_s": 10, "check_interval_s": 2}
    for key in ("ttl_s", "check_interval_s", "regions", "name"):
        if key in change:
            top[key] = change.pop(key)
    region.update(change)
    top.setdefault("regions", (dz.RegionAnswer(**region),))
    with pytest.raises(ValueError, match=re.escape(message)):
        dz.DnsSettings(**top)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValueError, match=r"ttl_s.*; check_interval_s.*; no regions"):
        dz.DnsSettings(ttl_s=0, check_interval_s=0, regions=())


# --- the code run under LuaJIT, with PowerDNS's functions stood in for ----------------------


def run(code: str, *, ecs: str | None, up: set[str]) -> str:
    """What the record answers a query with this client subnet (None: no ECS, the resolver's
    own address) while the URLs in `up` pass their checks."""
    lupa = pytest.importorskip("lupa")
    lua = lupa.luajit21.LuaRuntime()
    best = ipaddress.ip_address("172.18.0.5" if ecs is None else ecs.split("/")[0])
    g = lua.globals()
    g.netmask = _netmask(best)
    g.ifurlextup = _ifurlextup(up)
    return str(lua.execute(code))


def _netmask(best: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Callable[[Any], bool]:
    def netmask(masks: Any) -> bool:
        return any(best in ipaddress.ip_network(m) for m in masks.values())

    return netmask


def _ifurlextup(up: set[str]) -> Callable[[Any, Any], str]:
    def ifurlextup(groups: Any, options: Any) -> str:
        assert dict(options.items()) == {"timeout": "1"}
        candidates = []
        for group in groups.values():  # in the table's order, as PowerDNS reads it
            pairs = list(group.items())
            candidates += [address for address, _ in pairs]
            healthy = [address for address, url in pairs if url in up]
            if healthy:
                return str(healthy[0])
        return str(random.Random(0).choice(candidates))  # all down: backupSelector random

    return ifurlextup


ALL_UP = set(CHECK.values())


@pytest.mark.parametrize(
    ("ecs", "up", "answer"),
    [
        pytest.param(CLIENT_SUBNETS[EAST], ALL_UP, "127.0.1.1", id="east user, both up: home"),
        pytest.param(CLIENT_SUBNETS[WEST], ALL_UP, "127.0.2.1", id="west user, both up: home"),
        pytest.param(CLIENT_SUBNETS[EAST], {CHECK[WEST]}, "127.0.2.1", id="east down: west"),
        pytest.param(CLIENT_SUBNETS[WEST], {CHECK[EAST]}, "127.0.1.1", id="west down: east"),
        pytest.param(CLIENT_SUBNETS[EAST], {CHECK[EAST]}, "127.0.1.1", id="west down: east stays"),
        pytest.param(None, ALL_UP, "127.0.1.1", id="no ECS: first region"),
        pytest.param("192.0.2.0/24", {CHECK[WEST]}, "127.0.2.1", id="unknown subnet, east down"),
    ],
)
@pytest.mark.parametrize("join", [code_47, code_50], ids=["4.7 join", "5.0 join"])
def test_the_code_runs_and_answers_home_while_healthy_else_the_other_region(
    join: Callable[[Iterable[str]], str], ecs: str | None, up: set[str], answer: str
) -> None:
    code = join(lua_record(dz.zone_file(SETTINGS))[1].chunks)
    assert run(code, ecs=ecs, up=up) == answer


@pytest.mark.parametrize(
    ("ecs", "answer"),
    [(CLIENT_SUBNETS[EAST], "127.0.1.1"), (CLIENT_SUBNETS[WEST], "127.0.2.1"), (None, "127.0.1.1")],
)
def test_dns_static_keeps_users_home_whatever_is_down(ecs: str | None, answer: str) -> None:
    code = code_47(lua_record(dz.zone_file(STATIC))[1].chunks)
    assert run(code, ecs=ecs, up=set()) == answer
