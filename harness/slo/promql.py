"""The PromQL an SLO becomes (pure): what the report shows and what the judge sends.

Each objective kind writes its own query (harness/slo/objectives/); this module holds the
parts they share (selectors, ratios, quantiles, the backlog and recovery series) and
`expand`/`template`, which ask the SLO's kind.

An SLO is evaluated as an instant query at the END of its phase window, over a range that
covers the phase exactly (`[37s]`, whole seconds, at least 1 s). Client-side objectives read
the load generator's metrics (harness_client_*), server-side ones the web tier's and HAProxy's.

Two objectives are not one instant query: `backlog_drained_within_s` and `time_to_recover_s`
are judged from a RANGE query (step 1 s) of a single series, searched by `harness.slo.settle`.
For those `expand` returns that series query, so the report still shows what was asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.vocabulary import REGIONS, ROUTE_OF_REQUEST

if TYPE_CHECKING:  # the objectives (which build the SLO model) import the helpers below
    from harness.slo.model import SLO
    from harness.slo.objectives._bounds import Bound

WINDOW = "$window"  # the placeholder users write in `promql`
RECOVERY_RATE_WINDOW = "5s"  # the error ratio's smoothing for time_to_recover_s

CLIENT_REQUESTS = "harness_client_requests_total"
CLIENT_LATENCY = "harness_client_request_seconds_bucket"
ENTRY_FRONTEND = 'proxy="entry"'  # every region's entry: its front end
ENTRY_BACKENDS = 'proxy=~"' + "|".join(REGIONS) + '"'
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
    return slo.kind.query(slo, f"{seconds}s", str(seconds))


def template(slo: SLO) -> str:
    """The PromQL with the window left as `$window` (for an SLO whose phase never ran)."""
    return slo.kind.query(slo, WINDOW, "$window_seconds")


def selector(metric: str, *matchers: str) -> str:
    given = [m for m in matchers if m]
    return f"{metric}{{{','.join(given)}}}" if given else metric


def region_matcher(region: str | None) -> str:
    return f'region="{region}"' if region else ""


def client_matchers(bound: Bound) -> tuple[str, str]:
    """The label matchers of a client-side bound: its home region and kind of request."""
    route = f'route="{ROUTE_OF_REQUEST[bound.request]}"' if bound.request else ""
    return region_matcher(bound.region), route


def ratio(bad: str, all_: str, w: str, fn: str = "increase") -> str:
    # A labelled counter has no error series until the first error: `or vector(0)` makes a
    # clean window 0 errors instead of no data. No requests at all stays no data (or 0/0 NaN).
    return f"(sum({fn}({bad}[{w}])) or vector(0)) / sum({fn}({all_}[{w}]))"


def quantile_ms(q: float, bucket: str, w: str) -> str:
    return f"1000 * histogram_quantile({q:g}, sum by (le) (increase({bucket}[{w}])))"


def client_error_ratio(w: str, *matchers: str) -> str:
    """Failed / all client requests over `w`, for all users or those the matchers select."""
    return ratio(
        selector(CLIENT_REQUESTS, *matchers, 'result="error"'),
        selector(CLIENT_REQUESTS, *matchers),
        w,
    )


def recovery_series(region: str | None = None, request: str | None = None) -> str:
    """The client error ratio over a short rate window, the series time_to_recover_s searches
    (all requests, or one home region's and/or one kind of request's)."""
    route = f'route="{ROUTE_OF_REQUEST[request]}"' if request else ""
    bad = selector(CLIENT_REQUESTS, region_matcher(region), route, 'result="error"')
    all_ = selector(CLIENT_REQUESTS, region_matcher(region), route)
    return ratio(bad, all_, RECOVERY_RATE_WINDOW, "rate")


def is_range_objective(slo: SLO) -> bool:
    """True for the objectives judged from a range query rather than one instant query."""
    return slo.kind.range_query
