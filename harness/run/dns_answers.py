"""What the stack's DNS server answers each region's users, asked at every scrape.

A Prometheus collector on the harness's own /metrics (the fault exporter's registry): each
time Prometheus scrapes it (every second), it asks the DNS server for the service's address
once per region, presenting that region's client subnet, as that region's users do. So the
record holds, per second, where the DNS server sent each region's users, and with it how the
server saw each region's entry: it answers a region's users with their own entry only while
that entry passes its check.

    harness_dns_answer{client_region, answer_region}  1 for the region answered, 0 for the
                                                       others (every pair always there)
    harness_dns_answered{client_region}                0 while the server gives no answer
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from harness.stack.dns_query import OTHER_REGION, ResolveError, region_of_address, service_query
from harness.vocabulary import REGIONS, SERVICE_NAME

# Two questions per scrape must fit in Prometheus's 900 ms scrape timeout; the server is on
# loopback and answers in a millisecond or two.
QUERY_TIMEOUT_S = 0.3


class DnsAnswers(Collector):
    def __init__(self, dns: str, *, name: str = SERVICE_NAME) -> None:
        self.query = service_query(dns, name=name, timeout_s=QUERY_TIMEOUT_S)

    def answer(self, region: str) -> str | None:
        """The region the server sends `region`'s users to now; None without an answer."""
        try:
            found = self.query(region)
        except ResolveError:
            return None
        return region_of_address(found.address)

    def collect(self) -> Iterator[Metric]:
        answers = GaugeMetricFamily(
            "harness_dns_answer",
            "1 for the region the DNS server answers the client region's users with",
            labels=["client_region", "answer_region"],
        )
        answered = GaugeMetricFamily(
            "harness_dns_answered",
            "1 while the DNS server answers the client region's users at all",
            labels=["client_region"],
        )
        for client in REGIONS:
            got = self.answer(client)
            answered.add_metric([client], 0.0 if got is None else 1.0)
            for region in (*REGIONS, OTHER_REGION):
                answers.add_metric([client, region], 1.0 if got == region else 0.0)
        yield answers
        yield answered
