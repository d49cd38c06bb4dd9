"""The geo DNS server's files: PowerDNS Authoritative 4.7's pdns.conf, its bind backend's
named.conf and the zone of SERVICE_NAME, as the harness writes them into the container.

SERVICE_NAME is one LUA A record. A query's EDNS Client Subnet says which region its user
lives in (`netmask()` matches it: PowerDNS sets `bestwho` to the subnet's network); the record
answers that region's entry address while the entry passes the server's health check, else
the other region's (`ifurlextup`: the first group with a healthy URL wins). The answered
addresses are on the host's loopback, which the server cannot reach, so each address is checked
through a URL of its own: the region's edge link on Toxiproxy, the way every user's request
goes, so a region outage of either mode fails the check. A query from no known subnet gets
the first region's order. The seeded bug `dns_static` answers by subnet alone: no check, so a
dead region keeps its users.

PowerDNS 4.7 joins the quoted chunks of a LUA record with a space, and splits the record's
text at every `"` without honouring escapes: the Lua code therefore holds no `"` and no `\\`
(Lua strings are single-quoted, and no input may contain a quote), each chunk but the last
ends with a space (so PowerDNS 5's joining without one reads the same code), and the first
chunk starts with `;` (a multi-statement record: without it PowerDNS prepends `return`).

Pure: functions of DnsSettings; `dns_settings` builds the bundled stack's from topology.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.stack import topology as t
from harness.vocabulary import (
    CLIENT_SUBNETS,
    DEFAULT_DNS_CHECK_INTERVAL_S,
    DEFAULT_DNS_TTL_S,
    ENTRY_ADDRESSES,
    SERVICE_NAME,
)

# Where the harness writes the files (the image's entrypoint runs pdns_server on CONFIG_DIR).
CONFIG_DIR = "/etc/powerdns"
PDNS_CONF_FILE = f"{CONFIG_DIR}/pdns.conf"
NAMED_CONF_FILE = f"{CONFIG_DIR}/named.conf"
ZONE_FILE = f"{CONFIG_DIR}/zone.db"
# The control socket's directory: the image makes it, owned by the server's user.
SOCKET_DIR = "/run/pdns"
DNS_PORT = t.DNS_PORT  # UDP and TCP
METRICS_PORT = t.DNS_METRICS_PORT  # PowerDNS's webserver: /metrics in Prometheus's format
# The entry is checked through Toxiproxy, by the name it has on every site network.
PROXY_HOST = "toxiproxy"
CHECK_PATH = "/healthz"
# Below the check interval, so a hanging check cannot stretch it (4.7 waits for every check
# of a round before the next); an entry slower than this is down for users too.
CHECK_TIMEOUT_S = 1
# A check is dropped once its record goes unqueried this long, and its next first query is
# answered as if every entry were down: a day outlives any pause between a stack's runs.
CHECK_EXPIRE_S = 86400
SOA_TTL_S = 3600
# A LUA record chunk past 255 bytes is split at the wrong place by a zone transfer.
MAX_CHUNK = 255


@dataclass(frozen=True, kw_only=True)
class RegionAnswer:
    """What the record knows of one region."""

    region: str
    address: str  # the answer: the region's entry, as users reach it
    check_url: str  # what the DNS server fetches to tell whether that entry is up
    subnet: str  # the EDNS Client Subnet the region's users present


@dataclass(frozen=True, kw_only=True)
class DnsSettings:
    """Everything the DNS server's files depend on. The first region is also the answer for
    a query from no known subnet."""

    ttl_s: int
    check_interval_s: int
    regions: tuple[RegionAnswer, ...]
    static: bool = False  # the seeded bug dns_static: answers by subnet alone, never checked
    # False (the seeded bug failover_off): checked, but with the home region's group alone,
    # so a dead home region is still the answer (ifurlextup answers a group's addresses when
    # none of them is up).
    failover: bool = True
    name: str = SERVICE_NAME

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("invalid DNS settings: " + "; ".join(problems))

    @property
    def zone(self) -> str:
        """The zone the name lives in: `chaos.test` for `app.chaos.test`."""
        return self.name.partition(".")[2]

    @property
    def host(self) -> str:
        """The name's label in its zone: `app`."""
        return self.name.partition(".")[0]


def dns_settings(
    *,
    ttl_s: int = DEFAULT_DNS_TTL_S,
    check_interval_s: int = DEFAULT_DNS_CHECK_INTERVAL_S,
    static: bool = False,
    failover: bool = True,
) -> DnsSettings:
    """The bundled stack's settings: per region its entry's loopback address, a check through
    its edge link, and its users' subnet, in REGIONS order."""
    return DnsSettings(
        ttl_s=ttl_s,
        check_interval_s=check_interval_s,
        static=static,
        failover=failover,
        regions=tuple(
            RegionAnswer(
                region=r,
                address=ENTRY_ADDRESSES[r],
                check_url=f"http://{PROXY_HOST}:{t.edge_link(r).listen_port}{CHECK_PATH}",
                subnet=CLIENT_SUBNETS[r],
            )
            for r in t.REGIONS
        ),
    )


def _problems(s: DnsSettings) -> list[str]:
    found = []
    if s.ttl_s < 1:
        found.append(f"ttl_s must be at least 1, got {s.ttl_s}")
    if s.check_interval_s < 1:  # whole seconds: lua-health-checks-interval is an integer
        found.append(f"check_interval_s must be at least 1, got {s.check_interval_s}")
    if not s.regions:
        found.append("no regions")
    if len({r.region for r in s.regions}) != len(s.regions):
        found.append("a region is listed twice")
    if s.name.count(".") < 2:
        found.append(f"name {s.name!r} must be a host in a zone of at least two labels")
    for r in s.regions:
        found += _region_problems(r)
    return found


def _region_problems(r: RegionAnswer) -> list[str]:
    found = []
    try:
        if ipaddress.ip_address(r.address).version != 4:
            found.append(f"{r.region}: address {r.address!r} is not IPv4 (the record is an A)")
    except ValueError:
        found.append(f"{r.region}: address {r.address!r} is not an IP address")
    try:
        ipaddress.ip_network(r.subnet)
    except ValueError:
        found.append(f"{r.region}: subnet {r.subnet!r} is not a network")
    url = urlsplit(r.check_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        found.append(f"{r.region}: check_url {r.check_url!r} is not an http(s) URL")
    # Everything lands in a single-quoted Lua string inside a quoted zone file string.
    for field, value in (("region", r.region), ("check_url", r.check_url)):
        if any(c in value for c in "'\"\\") or any(c.isspace() for c in value):
            found.append(f"{r.region}: {field} {value!r} holds a quote, backslash or space")
    return found


def _lua_str(value: str) -> str:
    return f"'{value}'"  # safe: _problems refuses quotes and backslashes


def _ordered(s: DnsSettings, home: RegionAnswer) -> list[int]:
    """Indexes (1-based, Lua's) of the regions for a user of `home`: home first."""
    first = s.regions.index(home) + 1
    return [first] + [i for i in range(1, len(s.regions) + 1) if i != first]


def _checked_answer(s: DnsSettings, home: RegionAnswer) -> str:
    order = ",".join(f"g[{i}]" for i in _ordered(s, home)[: None if s.failover else 1])
    return f"return ifurlextup({{{order}}},o)"


def lua_statements(s: DnsSettings) -> list[str]:
    """The record's Lua code, one statement (one zone file chunk) each."""
    if s.static:
        head: list[str] = []
        answer = {r.region: f"return {_lua_str(r.address)}" for r in s.regions}
    else:
        # g[i]: region i's {address = check URL} group. The same option table in every call:
        # PowerDNS runs one check per (URL, options), however many subnets share it.
        groups = ",".join(f"{{[{_lua_str(r.address)}]={_lua_str(r.check_url)}}}" for r in s.regions)
        head = [f"local g={{{groups}}}", f"local o={{timeout={_lua_str(str(CHECK_TIMEOUT_S))}}}"]
        answer = {r.region: _checked_answer(s, r) for r in s.regions}
    by_subnet = [
        f"if netmask({{{_lua_str(r.subnet)}}}) then {answer[r.region]} end" for r in s.regions
    ]
    return head + by_subnet + [answer[s.regions[0].region]]


def lua_chunks(s: DnsSettings) -> list[str]:
    """The record's quoted chunks, as they stand in the zone file."""
    statements = lua_statements(s)
    statements[0] = ";" + statements[0]  # multi-statement: PowerDNS must not prepend `return`
    texts = [f"{stmt} " for stmt in statements[:-1]] + [statements[-1]]
    too_long = [text for text in texts if len(text) > MAX_CHUNK]
    if too_long:
        raise ValueError(f"a LUA record chunk is over {MAX_CHUNK} bytes: {too_long[0]!r}")
    return [f'"{text}"' for text in texts]


def zone_file(s: DnsSettings) -> str:
    """ZONE_FILE's content: SOA, NS and the LUA A record of the service name."""
    origin = f"{s.zone}."
    ns = f"ns.{origin}"
    # The SOA's last field is the negative TTL: an AAAA question gets no data, cached no
    # longer than an answer. Nothing resolves the NS name (clients ask this server directly),
    # so it has no address record.
    chunks = lua_chunks(s)
    pad = " " * len(f"{s.host} {s.ttl_s} IN LUA A ( ")
    record = f"{s.host} {s.ttl_s} IN LUA A ( {chunks[0]}\n"
    record += "".join(f"{pad}{chunk}\n" for chunk in chunks[1:]) + f"{pad})\n"
    kind = "by subnet only (seeded bug dns_static)" if s.static else "by subnet and health"
    return (
        f"; Written by the harness (harness/stack/dns_zone.py): {s.name} answered {kind}.\n"
        f"$ORIGIN {origin}\n"
        f"@ {SOA_TTL_S} IN SOA {ns} hostmaster.{origin} 1 3600 600 86400 {s.ttl_s}\n"
        f"@ {SOA_TTL_S} IN NS {ns}\n" + record
    )


def named_conf(s: DnsSettings) -> str:
    """NAMED_CONF_FILE's content: the bind backend's one zone."""
    return f'zone "{s.zone}" {{\n  type master;\n  file "{ZONE_FILE}";\n}};\n'


def pdns_conf(s: DnsSettings) -> str:
    """PDNS_CONF_FILE's content. Setting names as in PowerDNS Authoritative 4.7's settings
    reference; a name it does not know stops it at start."""
    settings = [
        ("launch", "bind"),
        ("bind-config", NAMED_CONF_FILE),
        ("local-address", "0.0.0.0"),  # the default adds `::`, absent on many Docker networks
        ("local-port", str(DNS_PORT)),
        # Started as root to bind port 53, the server then runs as Debian's `pdns` user.
        ("setuid", "pdns"),
        ("setgid", "pdns"),
        ("socket-dir", SOCKET_DIR),
        ("write-pid", "no"),
        ("enable-lua-records", "yes"),
        ("edns-subnet-processing", "yes"),
        ("lua-health-checks-interval", str(s.check_interval_s)),
        ("lua-health-checks-expire-delay", str(CHECK_EXPIRE_S)),
        # Empty: by default the server resolves a name on the internet at start.
        ("security-poll-suffix", ""),
        # The webserver for Prometheus's scrape of /metrics; no API (no key, no zone edits).
        ("webserver", "yes"),
        ("webserver-address", "0.0.0.0"),
        ("webserver-port", str(METRICS_PORT)),
        ("webserver-allow-from", "0.0.0.0/0"),  # the stack's own networks and Docker's proxy
        ("webserver-loglevel", "none"),  # else a line per scrape
        ("api", "no"),
        # Quiet, to stderr (Docker keeps it and stamps the time); 6 would show the checks'
        # UP and DOWN lines.
        ("disable-syslog", "yes"),
        ("log-timestamp", "no"),
        ("loglevel", "4"),
        ("log-dns-queries", "no"),
        ("log-dns-details", "no"),
    ]
    header = "# Written by the harness (harness/stack/dns_zone.py).\n"
    return header + "".join(f"{name}={value}\n" for name, value in settings)


def dns_files(s: DnsSettings) -> dict[str, str]:
    """Every file the DNS container needs, path -> content (ContainerSpec.files)."""
    return {PDNS_CONF_FILE: pdns_conf(s), NAMED_CONF_FILE: named_conf(s), ZONE_FILE: zone_file(s)}
