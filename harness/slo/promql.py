"""The PromQL an SLO becomes (pure): what the report shows and what the judge sends.

An SLO is evaluated as an instant query at the END of its phase window, over a range that
covers the phase exactly (`[37s]`, whole seconds, at least 1 s). Client-side objectives read
the load generator's metrics (harness_client_*), server-side ones the web tier's and HAProxy's.

Two objectives are not one instant query: `backlog_drained_within_s` and `time_to_recover_s`
are judged from a RANGE query (step 1 s) of a single series, searched by `harness.slo.settle`.
For those `expand` returns that series query, so the report still shows what was asked.

HAProxy 2.6's exporter has no latency histogram: the router's "p95" is the worst of HAProxy's
own running average of total request time (`haproxy_backend_total_time_average_seconds`, over
its last 1024 requests) seen during the window, an approximation that the query itself shows.
"""

from __future__ import annotations

from harness.scenario.slo_model import SLO, Bound
from harness.vocabulary import REGIONS, ROUTE_OF_REQUEST

WINDOW = "$window"  # the placeholder users write in `promql`
RECOVERY_RATE_WINDOW = "5s"  # the error ratio's smoothing for time_to_recover_s

CLIENT_REQUESTS = "harness_client_requests_total"
CLIENT_LATENCY = "harness_client_request_seconds_bucket"
QUANTILES = {"latency_p50_ms": 0.5, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99}
_ROUTER_FRONTEND = 'proxy="geo"'
_ROUTER_BACKENDS = 'proxy=~"' + "|".join(REGIONS) + '"'
# The web tier (producer) and the workers both export the group's lag; either may be missing
# (no worker alive, a region cut off), so the backlog is the max over whichever reports.
BACKLOG_SERIES = 'max({__name__=~"web_queue_backlog|worker_queue_backlog"})'
PENDING_SERIES = 'max({__name__=~"web_queue_pending|worker_queue_pending"})'


def window_seconds(window_s: float) -> int:
    """The phase length as the whole seconds a PromQL range uses (at least 1)."""
    return max(1, round(window_s))


def expand(slo: SLO, window_s: float) -> str:
    """The PromQL `slo` becomes for a phase of `window_s` seconds."""
    seconds = window_seconds(window_s)
    return _build(slo, f"{seconds}s", str(seconds))


def template(slo: SLO) -> str:
    """The PromQL with the window left as `$window` (for an SLO whose phase never ran)."""
    return _build(slo, WINDOW, "$window_seconds")


def _selector(metric: str, *matchers: str) -> str:
    given = [m for m in matchers if m]
    return f"{metric}{{{','.join(given)}}}" if given else metric


def _region(region: str | None) -> str:
    return f'region="{region}"' if region else ""


def _client(bound: Bound) -> tuple[str, str]:
    """The label matchers of a client-side bound: its home region and kind of request."""
    route = f'route="{ROUTE_OF_REQUEST[bound.request]}"' if bound.request else ""
    return _region(bound.region), route


def _ratio(bad: str, all_: str, w: str, fn: str = "increase") -> str:
    # A labelled counter has no error series until the first error: `or vector(0)` makes a
    # clean window 0 errors instead of no data. No requests at all stays no data (or 0/0 NaN).
    return f"(sum({fn}({bad}[{w}])) or vector(0)) / sum({fn}({all_}[{w}]))"


def _quantile_ms(q: float, bucket: str, w: str) -> str:
    return f"1000 * histogram_quantile({q:g}, sum by (le) (increase({bucket}[{w}])))"


def client_error_ratio(w: str, *matchers: str) -> str:
    """Failed / all client requests over `w`, for all users or those the matchers select."""
    return _ratio(
        _selector(CLIENT_REQUESTS, *matchers, 'result="error"'),
        _selector(CLIENT_REQUESTS, *matchers),
        w,
    )


def recovery_series(region: str | None = None) -> str:
    """The client error ratio over a short rate window, the series time_to_recover_s searches."""
    bad = _selector(CLIENT_REQUESTS, _region(region), 'result="error"')
    return _ratio(bad, _selector(CLIENT_REQUESTS, _region(region)), RECOVERY_RATE_WINDOW, "rate")


def _server_error_ratio(tier: str, w: str) -> str:
    if tier == "router":
        return _ratio(
            _selector("haproxy_frontend_http_responses_total", _ROUTER_FRONTEND, 'code="5xx"'),
            _selector("haproxy_frontend_http_requests_total", _ROUTER_FRONTEND),
            w,
        )
    return _ratio('web_requests_total{status=~"5.."}', "web_requests_total", w)


def _server_latency_ms(tier: str, shard: int | None, w: str) -> str:
    if tier == "router":
        average = _selector("haproxy_backend_total_time_average_seconds", _ROUTER_BACKENDS)
        return f"1000 * max(max_over_time({average}[{w}]))"
    if tier == "shard":
        bucket = _selector("web_db_seconds_bucket", f'shard="{shard}"' if shard is not None else "")
        return _quantile_ms(0.95, bucket, w)
    return _quantile_ms(0.95, "web_request_seconds_bucket", w)


def _build(slo: SLO, w: str, seconds: str) -> str:
    objective = slo.objective
    if slo.promql is not None:
        return slo.promql.replace(WINDOW, w)
    if slo.error_ratio is not None:
        return client_error_ratio(w, *_client(slo.error_ratio))
    if objective in QUANTILES:
        bound = getattr(slo, objective)
        bucket = _selector(CLIENT_LATENCY, *_client(bound))
        return _quantile_ms(QUANTILES[objective], bucket, w)
    if slo.throughput_min_rps is not None:
        total = _selector(CLIENT_REQUESTS, *_client(slo.throughput_min_rps))
        return f"sum(increase({total}[{w}])) / {seconds}"
    if slo.server_error_ratio is not None:
        return _server_error_ratio(slo.server_error_ratio.tier, w)
    if slo.server_latency_p95_ms is not None:
        bound = slo.server_latency_p95_ms
        return _server_latency_ms(bound.tier, bound.shard, w)
    if slo.queue_backlog_max is not None:
        return f"max_over_time({BACKLOG_SERIES}[{w}:1s])"
    if slo.backlog_drained_within_s is not None:
        return BACKLOG_SERIES
    if slo.time_to_recover_s is not None:
        return recovery_series(slo.time_to_recover_s.region)
    raise ValueError(f"no PromQL for objective {objective}")  # pragma: no cover


def is_range_objective(slo: SLO) -> bool:
    """True for the objectives judged from a range query rather than one instant query."""
    return slo.objective in ("backlog_drained_within_s", "time_to_recover_s")
