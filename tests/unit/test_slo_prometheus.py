"""The Prometheus adapter: answers parsed, every failure an InfraError, every call bounded.

No network: an unreachable URL is a closed loopback port, a hung server is a loopback socket
that accepts and never answers.
"""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Iterator

import pytest

from harness.errors import InfraError
from harness.slo.prometheus import PrometheusClient, _samples, _series


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ([], []),
        (
            [{"metric": {"region": "us-east"}, "value": [1.0, "0.25"]}],
            [({"region": "us-east"}, 0.25)],
        ),
        ([{"metric": {}, "value": [1.0, "+Inf"]}], [({}, math.inf)]),
        ([1.0, "3"], [({}, 3.0)]),
    ],
)
def test_instant_results(result: object, expected: object) -> None:
    assert _samples(result) == expected


def test_nan_survives_parsing() -> None:
    [(_, value)] = _samples([{"metric": {}, "value": [1.0, "NaN"]}])
    assert math.isnan(value)


def test_range_results() -> None:
    item = {"metric": {"shard": "2"}, "values": [[10, "1"], [11, "2.5"]]}
    series = _series(item)
    assert series.labels == {"shard": "2"}
    assert series.points == [(10.0, 1.0), (11.0, 2.5)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hung_server() -> Iterator[str]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_unreachable_is_an_infra_error_naming_url_and_query() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    client = PrometheusClient(url, timeout_s=1.0)
    with pytest.raises(InfraError) as caught:
        client.instant("sum(up)", 100.0)
    assert url in caught.value.message and "sum(up)" in caught.value.message
    with pytest.raises(InfraError, match="max\\(x\\)"):
        client.range("max(x)", 100.0, 160.0)
    assert client.ready() is False


def test_a_hung_server_is_bounded_in_time(hung_server: str) -> None:
    client = PrometheusClient(hung_server, timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(InfraError):
        client.instant("up", 100.0)
    assert client.ready() is False
    assert time.monotonic() - started < 3.0


def test_nan_in_a_range_becomes_a_gap() -> None:
    series = _series({"metric": {}, "values": [[10, "NaN"], [11, "0.5"]]})
    assert series.points == [(10.0, None), (11.0, 0.5)]
