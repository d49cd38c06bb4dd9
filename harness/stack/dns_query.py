"""Asking the stack's DNS server for the service's address as a client of one region would:
an A query with that region's EDNS Client Subnet (ECS), UDP first and TCP when the answer is
truncated, bounded in time. Used by the users' resolver (harness.load.resolver) and by the
readiness check and the run's DNS prober, which ask as each region's users do.

    ResolveError      no usable answer: timeout, unreachable, SERVFAIL, NXDOMAIN, no A record

dnspython is imported when a query is first bound (`dns_query`, `service_query`) or asked,
not with this module: the load generator imports it for its names (`ResolveError`,
`OTHER_REGION`) in every run, and only runs with geo DNS ask (its import is about 40 ms of
CPU, paid at the start of each Locust process otherwise). Binding a query imports it, so
the first question is not slowed by it (the open model times it).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from harness.vocabulary import CLIENT_SUBNETS, ENTRY_ADDRESSES, SERVICE_NAME

if TYPE_CHECKING:
    import dns.edns

OTHER_REGION = "other"  # an answer that is no region's entry: a misconfigured DNS server
DEFAULT_TIMEOUT_S = 1.0  # a loopback DNS server answers in a millisecond or so

_REGION_OF_ADDRESS = {address: region for region, address in ENTRY_ADDRESSES.items()}


class ResolveError(Exception):
    """No usable answer to a DNS query. `kind` is short and stable (`timeout`, `SERVFAIL`,
    `NXDOMAIN`, `no A record`, `unreachable`, `bad answer`), fit to group failures by;
    `waited_s` is how long the question took."""

    def __init__(self, message: str, *, kind: str, waited_s: float = 0.0):
        super().__init__(message)
        self.kind = kind
        self.waited_s = waited_s


class Answer(NamedTuple):
    address: str
    ttl_s: float


Query = Callable[[str], Answer]  # home region -> the answer for a client of that region


def load_dnspython() -> None:
    """Import what query_a uses of dnspython now rather than at the first question."""
    import dns.edns
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype  # noqa: F401


def region_of_address(address: str) -> str:
    """The region whose entry `address` is (ENTRY_ADDRESSES); `other` for any other address."""
    return _REGION_OF_ADDRESS.get(address, OTHER_REGION)


def ecs_option(region: str) -> dns.edns.ECSOption:
    """The EDNS Client Subnet option a client of `region` sends: its CLIENT_SUBNETS network."""
    import dns.edns

    try:
        network = ipaddress.ip_network(CLIENT_SUBNETS[region])
    except KeyError:
        raise ValueError(
            f"no client subnet for region {region!r} (known: {list(CLIENT_SUBNETS)})"
        ) from None
    return dns.edns.ECSOption(str(network.network_address), network.prefixlen)


def query_a(name: str, *, server: str, port: int, region: str, timeout_s: float) -> Answer:
    """Ask the DNS server at server:port (an IP address) for the A record of `name`, as a
    client of `region` (ECS). UDP first, TCP when the answer is truncated; each attempt gives
    up after `timeout_s`. The first address of the answer and its TTL; ResolveError without."""
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    query = dns.message.make_query(
        name, dns.rdatatype.A, use_edns=0, options=[ecs_option(region)], flags=dns.flags.RD
    )
    where = f"{name} A from {server}:{port} for {region}"
    started = time.monotonic()

    def error(kind: str, why: str) -> ResolveError:
        waited = time.monotonic() - started
        return ResolveError(f"DNS {where}: {why}", kind=kind, waited_s=waited)

    try:
        response, _ = dns.query.udp_with_fallback(query, server, timeout=timeout_s, port=port)
    except dns.exception.Timeout:
        raise error("timeout", f"no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise error("unreachable", exc.strerror or type(exc).__name__) from None
    except dns.exception.DNSException as exc:
        raise error("bad answer", f"unreadable answer ({type(exc).__name__})") from None
    rcode = response.rcode()
    if rcode != dns.rcode.NOERROR:
        text = dns.rcode.to_text(rcode)
        raise error(text, f"the server answered {text}")
    for rrset in response.answer:  # a CNAME chain comes first; the A records end it
        if rrset.rdtype == dns.rdatatype.A and len(rrset):
            # Several addresses: a client tries the first (the server's order).
            return Answer(str(next(iter(rrset)).address), float(rrset.ttl))
    raise error("no A record", "the answer holds no A record")


def dns_query(*, server: str, port: int, name: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Query:
    """`query_a` bound to one server and name: what a CachingResolver asks. Imports dnspython
    now, so that the first question does not wait for it."""
    load_dnspython()

    def query(region: str) -> Answer:
        return query_a(name, server=server, port=port, region=region, timeout_s=timeout_s)

    return query


def service_query(
    dns: str, *, name: str = SERVICE_NAME, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Query:
    """`dns_query` for a stack's DNS server as its endpoints give it ("127.0.0.1:PORT")."""
    host, _, port = dns.rpartition(":")
    return dns_query(server=host, port=int(port), name=name, timeout_s=timeout_s)
