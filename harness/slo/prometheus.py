"""The Prometheus adapter: PromQL over prometheus-api-client, every call bounded in time.

Bounded how: the HTTP session is ours (passed to PrometheusConnect), every request carries
`timeout=timeout_s` (connect and read), Prometheus itself is asked to give up after
`timeout_s` (its `timeout` query parameter), and the library's retries (3 with 1 s backoff by
default) are cut to one quick retry on 502/503/504 and connection errors. A call therefore
ends within about 2 * timeout_s + 0.5 s. Any failure becomes an InfraError naming the URL
and the query.
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
from datetime import UTC, datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from harness.errors import InfraError, QueryRejected
from harness.record import Series
from harness.slo.query import PromQuery, Sample

__all__ = ["PromQuery", "PrometheusClient", "Sample"]

_RETRY = Retry(total=1, backoff_factor=0.5, status_forcelist=(502, 503, 504), raise_on_status=False)
_FAILURES = (requests.RequestException, PrometheusApiClientException, ValueError, KeyError)


class PrometheusClient:
    """Instant and range queries against one Prometheus (implements `harness.ports.PromQuery`)."""

    def __init__(self, url: str, *, timeout_s: float = 5.0):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._session = requests.Session()
        self._session.verify = False
        self._prom = PrometheusConnect(
            self.url,
            disable_ssl=True,
            session=self._session,
            retry=_RETRY,
            timeout=timeout_s,
        )

    def _params(self, **extra: object) -> dict[str, object]:
        return {"timeout": f"{self.timeout_s:g}s", **extra}

    def instant(self, promql: str, at: float) -> list[Sample]:
        """The instant vector (or scalar) of `promql` evaluated at Unix time `at`."""
        try:
            result = self._prom.custom_query(promql, params=self._params(time=at))
            return _samples(result)
        except _FAILURES as exc:
            raise self._error(promql, exc) from exc

    def range(self, promql: str, start: float, end: float, step_s: float = 1.0) -> list[Series]:
        """The matrix of `promql` from `start` to `end` (Unix times) every `step_s` seconds."""
        try:
            result = self._prom.custom_query_range(
                promql,
                start_time=datetime.fromtimestamp(start, tz=UTC),
                end_time=datetime.fromtimestamp(end, tz=UTC),
                step=f"{step_s:g}s",
                params=self._params(),
            )
            return [_series(item) for item in result]
        except _FAILURES as exc:
            raise self._error(promql, exc) from exc

    def ready(self) -> bool:
        """True when Prometheus answers its readiness probe within the timeout."""
        try:
            answer = self._session.get(f"{self.url}/-/ready", timeout=self.timeout_s)
        except requests.RequestException:
            return False
        return answer.ok

    def close(self) -> None:
        self._session.close()

    def _error(self, promql: str, exc: Exception) -> InfraError:
        text = str(exc)
        if isinstance(exc, PrometheusApiClientException) and "bad_data" in text:
            reason = _reason(text)
            return QueryRejected(
                f"Prometheus at {self.url} refused query {promql!r}: {reason}",
                reason=reason,
                hint="the query is wrong, not Prometheus: fix the SLO's promql",
            )
        return InfraError(
            f"Prometheus at {self.url} failed on query {promql!r}: {type(exc).__name__}: {exc}",
            hint="is the stack's prometheus container up? (docker ps; harness cleanup)",
        )


def _reason(text: str) -> str:
    """Prometheus's own words from the client's exception text, which quotes its JSON body
    as a bytes repr (`HTTP Status Code 400 (b'{"status":"error",...,"error":"..."}')`)."""
    start, end = text.find("b'"), text.rfind("'")
    if 0 <= start < end:
        with contextlib.suppress(ValueError, SyntaxError, TypeError, AttributeError):
            body = json.loads(ast.literal_eval(text[start : end + 1]))
            return str(body["error"])
    return text


def _value(raw: Any) -> float:
    return float(raw)  # Prometheus sends "NaN", "+Inf" as strings; float() reads them


def _samples(result: Any) -> list[Sample]:
    if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
        return [({}, _value(result[1]))]  # a scalar (or string) result: [time, "value"]
    return [(dict(item.get("metric", {})), _value(item["value"][1])) for item in result]


def _point(t: Any, raw: Any) -> tuple[float, float | None]:
    value = _value(raw)
    return float(t), None if math.isnan(value) else value  # a gap: JSON has no NaN


def _series(item: dict[str, Any]) -> Series:
    points = [_point(t, v) for t, v in item.get("values", [])]
    return Series(labels=dict(item.get("metric", {})), points=points)
