"""harness/run/dns_answers.py: at each scrape, where the stack's DNS server sends each region's
users, asked as they ask (their client subnet), against the in-process FakeDnsServer."""

from __future__ import annotations

import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from harness.run.dns_answers import QUERY_TIMEOUT_S, DnsAnswers
from harness.run.exporter import FaultExporter
from harness.vocabulary import CLIENT_SUBNETS, ENTRY_ADDRESSES, REGIONS
from tests.fakes import FakeDnsServer

HOME = {CLIENT_SUBNETS[r]: ENTRY_ADDRESSES[r] for r in REGIONS}
ANSWER_REGIONS = (*REGIONS, "other")


def scrape(collector: DnsAnswers) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """One collection, as {(metric, labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in collector.collect()
        for sample in family.samples
    }


def answer(client: str, region: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("harness_dns_answer", (("answer_region", region), ("client_region", client)))


def answered(client: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("harness_dns_answered", (("client_region", client),))


def expected(
    sent_to: dict[str, str | None],
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every (client, answer) pair, 1 only for where each client is sent; answered unless None."""
    values = {
        answer(client, region): 1.0 if sent_to[client] == region else 0.0
        for client in REGIONS
        for region in ANSWER_REGIONS
    }
    values |= {answered(client): 0.0 if sent_to[client] is None else 1.0 for client in REGIONS}
    return values


def test_each_regions_users_are_sent_home_and_asked_with_their_subnet() -> None:
    with FakeDnsServer(HOME) as dns:
        got = scrape(DnsAnswers(f"127.0.0.1:{dns.port}"))
    assert got == expected({"us-east": "us-east", "us-west": "us-west"})
    assert dns.seen == [("udp", CLIENT_SUBNETS[r]) for r in REGIONS]


def test_a_failover_shows_as_the_other_regions_answer() -> None:
    with FakeDnsServer({**HOME, CLIENT_SUBNETS["us-east"]: ENTRY_ADDRESSES["us-west"]}) as dns:
        collector = DnsAnswers(f"127.0.0.1:{dns.port}")
        assert scrape(collector) == expected({"us-east": "us-west", "us-west": "us-west"})
        dns.answers = dict(HOME)  # each scrape asks again: the failback shows at once
        assert scrape(collector) == expected({"us-east": "us-east", "us-west": "us-west"})


def test_an_address_that_is_no_entry_is_answer_region_other() -> None:
    with FakeDnsServer({**HOME, CLIENT_SUBNETS["us-west"]: "192.0.2.9"}) as dns:
        got = scrape(DnsAnswers(f"127.0.0.1:{dns.port}"))
    assert got == expected({"us-east": "us-east", "us-west": "other"})


@pytest.mark.parametrize("mode", ["SERVFAIL", "NXDOMAIN", "empty"])
def test_no_answer_is_answered_0_and_no_region(mode: str) -> None:
    with FakeDnsServer(HOME, mode=mode) as dns:
        got = scrape(DnsAnswers(f"127.0.0.1:{dns.port}"))
    assert got == expected({"us-east": None, "us-west": None})


def test_a_silent_server_costs_the_scrape_no_more_than_a_timeout_per_region() -> None:
    with FakeDnsServer(HOME, mode="silent") as dns:
        started = time.monotonic()
        got = scrape(DnsAnswers(f"127.0.0.1:{dns.port}"))
        took = time.monotonic() - started
    assert got == expected({"us-east": None, "us-west": None})
    # a timeout per region, which fit in Prometheus's 900 ms scrape timeout (the bound on the
    # time taken is loose: a loaded machine may be slow to wake the waiting thread)
    assert len(REGIONS) * QUERY_TIMEOUT_S < 0.9
    assert len(REGIONS) * QUERY_TIMEOUT_S * 0.9 < took < 1.5


def test_a_truncated_answer_is_asked_again_over_tcp() -> None:
    with FakeDnsServer(HOME, mode="truncate") as dns:
        got = scrape(DnsAnswers(f"127.0.0.1:{dns.port}"))
    assert got == expected({"us-east": "us-east", "us-west": "us-west"})
    assert [transport for transport, _ in dns.seen] == ["udp", "tcp", "udp", "tcp"]


def test_the_fault_exporter_serves_the_answers_only_when_given_the_dns_server() -> None:
    with FakeDnsServer(HOME) as dns:
        text = generate_latest(FaultExporter("127.0.0.1", dns=f"127.0.0.1:{dns.port}").registry)
    assert b'harness_dns_answer{answer_region="us-east",client_region="us-east"} 1.0' in text
    assert b'harness_dns_answered{client_region="us-west"} 1.0' in text
    assert b"harness_dns_answer" not in generate_latest(FaultExporter("127.0.0.1").registry)


def test_registering_asks_the_dns_server_nothing() -> None:
    with FakeDnsServer(HOME) as dns:
        CollectorRegistry().register(DnsAnswers(f"127.0.0.1:{dns.port}"))
    assert dns.seen == []
