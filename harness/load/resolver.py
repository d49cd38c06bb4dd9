"""How a simulated user finds the service: an A query with its region's client subnet, cached.

The stack's DNS server answers SERVICE_NAME by the EDNS Client Subnet (ECS) of the query:
the home region's entry while it is healthy, else the other region's. `query_a` asks it the
way a stub resolver would (UDP, TCP again when the answer is truncated, a bounded timeout);
`CachingResolver` is one user's cache of that answer, so a request costs a clock read and a
comparison, not a DNS round trip. No Locust import: the locustfile wires these to its users.

    ResolveError      no usable answer: timeout, unreachable, SERVFAIL, NXDOMAIN, no A record
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from harness.vocabulary import CLIENT_SUBNETS, ENTRY_ADDRESSES

OTHER_REGION = "other"  # an answer that is no region's entry: a misconfigured DNS server
# After a failed refresh, how long the last answer serves before asking again: RFC 8767's
# failure recheck timer (30 s), scaled to runs of a minute or two as the stack's TTLs are.
# Without it every request of a user would wait out a DNS timeout while the server is down.
RETRY_S = 5.0
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


def region_of_address(address: str) -> str:
    """The region whose entry `address` is (ENTRY_ADDRESSES); `other` for any other address."""
    return _REGION_OF_ADDRESS.get(address, OTHER_REGION)


def ecs_option(region: str) -> dns.edns.ECSOption:
    """The EDNS Client Subnet option a client of `region` sends: its CLIENT_SUBNETS network."""
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
    """`query_a` bound to one server and name: what a CachingResolver asks."""

    def query(region: str) -> Answer:
        return query_a(name, server=server, port=port, region=region, timeout_s=timeout_s)

    return query


class ResolveObserver(Protocol):
    """Told of every answer and failed question (harness.load.client_metrics implements it)."""

    def dns_answer(self, *, region: str, answered: str) -> None: ...

    def dns_failure(self, *, region: str) -> None: ...


class _Unobserved:
    def dns_answer(self, *, region: str, answered: str) -> None:
        pass

    def dns_failure(self, *, region: str) -> None:
        pass


class CachingResolver:
    """One client's cache of the service's address, as a stub resolver keeps it.

    `address()` returns the cached answer until it expires after its TTL, or after `keep_s`
    for a client that ignores TTLs (it keeps every answer that long, whatever the TTL said),
    then asks `query` again. A failed refresh keeps the last answer for another `retry_s`
    (serve-stale) and counts the failure; with no answer ever, it raises ResolveError. Each
    answer is reported to `observer` with the region it points at (region_of_address).
    """

    def __init__(
        self,
        *,
        query: Query,
        region: str,
        clock: Callable[[], float] = time.monotonic,
        keep_s: float | None = None,
        retry_s: float = RETRY_S,
        observer: ResolveObserver | None = None,
    ):
        if keep_s is not None and keep_s <= 0:
            raise ValueError(f"keep_s must be > 0, got {keep_s}")
        self.region = region
        self.keep_s = keep_s
        self.retry_s = retry_s
        self.failures = 0
        self.answered_region: str | None = None  # the region of the last answer
        self._query, self._clock = query, clock
        self._observer: ResolveObserver = observer or _Unobserved()
        self._address = ""
        self._until = -math.inf

    def address(self) -> str:
        """The service's address for this client: the cached answer while it lasts (the hot
        path: one clock read, one comparison), else a fresh one. ResolveError with none."""
        if self._clock() < self._until:
            return self._address
        return self._refresh()

    def _refresh(self) -> str:
        if self._address:
            # Other greenlets sharing this cache keep the current answer while this one asks
            # (a resolver sends one question for many waiting clients).
            self._until = math.inf
        try:
            answer = self._query(self.region)
        except ResolveError:
            self.failures += 1
            self._observer.dns_failure(region=self.region)
            if not self._address:
                self._until = -math.inf
                raise
            self._until = self._clock() + self.retry_s
            return self._address
        except BaseException:
            self._until = -math.inf  # killed while asking: the next caller asks again
            raise
        self._address = answer.address
        self.answered_region = region_of_address(answer.address)
        self._observer.dns_answer(region=self.region, answered=self.answered_region)
        kept = answer.ttl_s if self.keep_s is None else self.keep_s
        self._until = self._clock() + kept  # the TTL counts from the answer's arrival
        return self._address
