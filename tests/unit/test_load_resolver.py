"""The users' resolver: the per-user cache (TTL, clients that ignore TTLs, serve-stale on a
failed refresh) with a scripted query and a fake clock, and the real dnspython query against
an in-process DNS server on 127.0.0.1 (tests.fakes.FakeDnsServer)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from harness.load.resolver import (
    OTHER_REGION,
    Answer,
    CachingResolver,
    ResolveError,
    dns_query,
    ecs_option,
    query_a,
    region_of_address,
)
from harness.vocabulary import CLIENT_SUBNETS, ENTRY_ADDRESSES, REGIONS, SERVICE_NAME
from tests.fakes import FakeClock, FakeDnsServer

EAST, WEST = ENTRY_ADDRESSES["us-east"], ENTRY_ADDRESSES["us-west"]
FAILED = ResolveError("DNS app A from 127.0.0.1:53 for us-east: no answer", kind="timeout")


class ScriptedQuery:
    """Answers (or raises) from `script` in turn, recording the regions asked for."""

    def __init__(self, *script: Answer | ResolveError) -> None:
        self.script = list(script)
        self.asked: list[str] = []

    def __call__(self, region: str) -> Answer:
        self.asked.append(region)
        step = self.script.pop(0)
        if isinstance(step, ResolveError):
            raise step
        return step


class Observed:
    def __init__(self) -> None:
        self.answers: list[tuple[str, str]] = []
        self.failures: list[str] = []

    def dns_answer(self, *, region: str, answered: str) -> None:
        self.answers.append((region, answered))

    def dns_failure(self, *, region: str) -> None:
        self.failures.append(region)


def resolver(
    query: ScriptedQuery, clock: FakeClock, keep_s: float | None = None
) -> tuple[CachingResolver, Observed]:
    observed = Observed()
    made = CachingResolver(
        query=query, region="us-east", clock=clock, keep_s=keep_s, observer=observed
    )
    return made, observed


def test_an_answer_is_cached_for_its_ttl_then_asked_again() -> None:
    clock = FakeClock()
    query = ScriptedQuery(Answer(EAST, 10.0), Answer(WEST, 10.0))
    cached, observed = resolver(query, clock)
    assert cached.address() == EAST
    clock.now = 9.99
    assert cached.address() == EAST
    assert query.asked == ["us-east"]  # no question while the answer lasts
    clock.now = 10.0
    assert cached.address() == WEST
    assert query.asked == ["us-east", "us-east"]
    assert observed.answers == [("us-east", "us-east"), ("us-east", "us-west")]
    assert cached.answered_region == "us-west"


def test_the_ttl_counts_from_when_the_answer_arrived() -> None:
    clock = FakeClock()

    def slow(region: str) -> Answer:
        clock.now += 0.5  # the question took half a second
        return Answer(EAST, 10.0)

    cached = CachingResolver(query=slow, region="us-east", clock=clock)
    cached.address()
    clock.now = 10.4
    assert cached.address() == EAST and clock.now == 10.4  # not asked again yet


def test_a_user_that_ignores_ttls_keeps_its_answer_for_keep_s() -> None:
    clock = FakeClock()
    query = ScriptedQuery(Answer(EAST, 10.0), Answer(WEST, 10.0))
    stale, _ = resolver(query, clock, keep_s=60.0)
    assert stale.address() == EAST
    clock.now = 59.9  # far past the TTL: a TTL-honouring client would have moved
    assert stale.address() == EAST
    assert len(query.asked) == 1
    clock.now = 60.0
    assert stale.address() == WEST


def test_a_failed_refresh_keeps_the_last_answer_and_is_counted() -> None:
    clock = FakeClock()
    query = ScriptedQuery(Answer(EAST, 10.0), FAILED, Answer(WEST, 10.0))
    cached, observed = resolver(query, clock)
    cached.address()
    clock.now = 10.0
    assert cached.address() == EAST  # served stale
    assert (cached.failures, observed.failures) == (1, ["us-east"])
    # Not asked again at every request while the server is down: once per retry_s.
    clock.now = 10.0 + cached.retry_s - 0.01
    assert cached.address() == EAST and len(query.asked) == 2
    clock.now = 10.0 + cached.retry_s
    assert cached.address() == WEST
    assert cached.failures == 1


def test_no_answer_ever_raises_and_the_next_request_asks_again() -> None:
    clock = FakeClock()
    query = ScriptedQuery(FAILED, FAILED, Answer(WEST, 10.0))
    cached, observed = resolver(query, clock)
    with pytest.raises(ResolveError) as caught:
        cached.address()
    assert caught.value.kind == "timeout"
    with pytest.raises(ResolveError):
        cached.address()  # same instant: nothing cached to serve, so ask (and fail) again
    assert cached.address() == WEST
    assert (cached.failures, observed.failures, observed.answers) == (
        2,
        ["us-east", "us-east"],
        [("us-east", "us-west")],
    )


def test_while_one_caller_asks_the_others_keep_the_current_answer() -> None:
    """Greenlets sharing a cache (the open model): one question, not one per greenlet."""
    clock = FakeClock()
    seen_meanwhile: list[str] = []
    answers = iter([Answer(EAST, 10.0), Answer(WEST, 10.0)])

    def query(region: str) -> Answer:
        if clock.now > 0:  # the refresh: another greenlet runs while this one waits
            seen_meanwhile.append(shared.address())
        return next(answers)

    shared = CachingResolver(query=query, region="us-west", clock=clock)
    shared.address()
    clock.now = 10.0
    assert shared.address() == WEST
    assert seen_meanwhile == [EAST]


def test_a_caller_killed_while_asking_leaves_the_next_one_to_ask() -> None:
    clock = FakeClock()
    calls = iter([Answer(EAST, 10.0), KeyboardInterrupt(), Answer(WEST, 10.0)])

    def query(region: str) -> Answer:
        step = next(calls)
        if isinstance(step, BaseException):
            raise step
        return step

    cached = CachingResolver(query=query, region="us-east", clock=clock)
    cached.address()
    clock.now = 10.0
    with pytest.raises(KeyboardInterrupt):
        cached.address()
    assert cached.address() == WEST


@pytest.mark.parametrize(
    ("address", "region"),
    [(EAST, "us-east"), (WEST, "us-west"), ("127.0.0.1", OTHER_REGION), ("10.0.0.9", OTHER_REGION)],
)
def test_an_answer_is_mapped_to_the_region_whose_entry_it_is(address: str, region: str) -> None:
    assert region_of_address(address) == region
    clock = FakeClock()
    cached, observed = resolver(ScriptedQuery(Answer(address, 5.0)), clock)
    assert cached.address() == address
    assert observed.answers == [("us-east", region)]


def test_keep_s_must_be_positive() -> None:
    with pytest.raises(ValueError, match="keep_s"):
        CachingResolver(query=ScriptedQuery(), region="us-east", keep_s=0)


@pytest.mark.parametrize("region", REGIONS)
def test_the_ecs_option_carries_the_regions_client_subnet(region: str) -> None:
    option = ecs_option(region)
    assert f"{option.address}/{option.srclen}" == CLIENT_SUBNETS[region]


def test_an_unknown_region_has_no_subnet() -> None:
    with pytest.raises(ValueError, match="eu-west"):
        ecs_option("eu-west")


# The real query path, against FakeDnsServer: each region's subnet answered with its entry.
BY_SUBNET = {CLIENT_SUBNETS[r]: ENTRY_ADDRESSES[r] for r in REGIONS}


@pytest.fixture
def server() -> Iterator[FakeDnsServer]:
    with FakeDnsServer(BY_SUBNET, ttl=7) as running:
        yield running


def ask(server: FakeDnsServer, region: str, timeout_s: float = 2.0) -> Answer:
    return query_a(
        SERVICE_NAME, server="127.0.0.1", port=server.port, region=region, timeout_s=timeout_s
    )


@pytest.mark.timeout(20)
@pytest.mark.parametrize("region", REGIONS)
def test_a_query_sends_the_regions_subnet_and_returns_the_answer_and_ttl(
    server: FakeDnsServer, region: str
) -> None:
    assert ask(server, region) == Answer(ENTRY_ADDRESSES[region], 7.0)
    assert server.seen == [("udp", CLIENT_SUBNETS[region])]


@pytest.mark.timeout(20)
def test_a_truncated_answer_is_asked_again_over_tcp(server: FakeDnsServer) -> None:
    server.mode = "truncate"
    assert ask(server, "us-west") == Answer(WEST, 7.0)
    assert server.seen == [("udp", CLIENT_SUBNETS["us-west"]), ("tcp", CLIENT_SUBNETS["us-west"])]


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("mode", "kind", "words"),
    [
        ("SERVFAIL", "SERVFAIL", "answered SERVFAIL"),
        ("NXDOMAIN", "NXDOMAIN", "answered NXDOMAIN"),
        ("empty", "no A record", "no A record"),
        ("silent", "timeout", "no answer within 0.3 s"),
    ],
)
def test_no_usable_answer_is_a_resolve_error_of_one_line(
    server: FakeDnsServer, mode: str, kind: str, words: str
) -> None:
    server.mode = mode
    started = time.monotonic()
    with pytest.raises(ResolveError) as caught:
        ask(server, "us-east", timeout_s=0.3)
    assert time.monotonic() - started < 2.0  # bounded by the timeout, not the server
    err = caught.value
    assert err.kind == kind
    assert words in str(err) and "\n" not in str(err)
    assert f"{SERVICE_NAME} A from 127.0.0.1:{server.port} for us-east" in str(err)


@pytest.mark.timeout(20)
def test_a_caching_resolver_on_the_real_query_follows_the_servers_answer(
    server: FakeDnsServer,
) -> None:
    clock = FakeClock()
    query = dns_query(server="127.0.0.1", port=server.port, name=SERVICE_NAME, timeout_s=0.3)
    observed = Observed()
    cached = CachingResolver(query=query, region="us-west", clock=clock, observer=observed)
    assert cached.address() == WEST
    # us-west's entry fails its check: the server answers us-west's clients with us-east's.
    server.answers[CLIENT_SUBNETS["us-west"]] = EAST
    clock.now = 6.9
    assert cached.address() == WEST  # within the TTL of 7 s
    clock.now = 7.0
    assert cached.address() == EAST
    server.mode = "silent"  # and then the DNS server stops answering
    clock.now = 14.0
    assert cached.address() == EAST
    assert observed.answers == [("us-west", "us-west"), ("us-west", "us-east")]
    assert observed.failures == ["us-west"]
