"""The end-of-run summary: one row per SLO and invariant, in one wording everywhere.

The terminal prints `summary_text()` at the end of every run (the table of every check, as k6
prints its thresholds, a line per promotion or demotion of a shard node, then a line per
failure and the verdict); JUnit's failure messages and
the HTML report take their per-row text (`measure`, `bound_text`, `failure_lines`) from here,
so a bound reads "max 2, min 1" wherever it is shown. Pure: a RunRecord in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.record import InvariantResult, RunRecord, SloResult
from harness.report._common import load_model, number, run_label, time_zero
from harness.slo.dns_failover import DNS_FAILOVER
from harness.slo.failover import FAILOVER_KINDS, in_order

COLUMNS = ("check", "name", "phase", "observed", "bound", "verdict")


@dataclass(frozen=True, kw_only=True)
class SummaryRow:
    kind: str  # "SLO" or "INVARIANT"
    name: str
    phase: str
    observed: str
    bound: str
    verdict: str  # pass, fail, error

    def cells(self) -> tuple[str, ...]:
        return (self.kind, self.name, self.phase, self.observed, self.bound, self.verdict.upper())


def bound_text(max_: float | None, min_: float | None) -> str:
    """`max 2, min 1`, `max 0.05`, `min 20`; `-` without bounds."""
    parts = [f"{k} {v:g}" for k, v in (("max", max_), ("min", min_)) if v is not None]
    return ", ".join(parts) or "-"


def measure(slo: SloResult) -> str:
    """What was seen against what was allowed: `observed 0.071, bound max 0.05`."""
    return f"observed {number(slo.observed)}, bound {bound_text(slo.max, slo.min)}"


def counts(inv: InvariantResult) -> str:
    """An invariant's outcome in numbers: `3 lost, 0 duplicated of 1850 acknowledged, 2
    unknown` (unknown: outcomes nobody saw, apart from the acknowledged)."""
    return (
        f"{inv.lost} lost, {inv.duplicated} duplicated of {inv.acknowledged} acknowledged, "
        f"{inv.unknown} unknown"
    )


def invariant_bound(inv: InvariantResult) -> str:
    """`0 lost, max 6 unknown`; `0 lost` where no tolerance was judged (an error)."""
    if inv.unknown_tolerated is None:
        return "0 lost"
    return f"0 lost, max {inv.unknown_tolerated} unknown"


def slo_row(slo: SloResult) -> SummaryRow:
    return SummaryRow(
        kind="SLO",
        name=slo.name,
        phase=slo.phase,
        observed=number(slo.observed),
        bound=bound_text(slo.max, slo.min),
        verdict=slo.verdict,
    )


def invariant_row(inv: InvariantResult) -> SummaryRow:
    # Invariants are checked once the recovery window is over, against the whole run's ledger.
    return SummaryRow(
        kind="INVARIANT",
        name=inv.name,
        phase="run",
        observed=f"{inv.lost} of {inv.acknowledged} lost, {inv.unknown} unknown",
        bound=invariant_bound(inv),
        verdict=inv.verdict,
    )


def rows(record: RunRecord) -> list[SummaryRow]:
    return [*(slo_row(s) for s in record.slos), *(invariant_row(i) for i in record.invariants)]


def table(record: RunRecord) -> str:
    """Every check as an aligned text table; empty when the run judged nothing."""
    found = [row.cells() for row in rows(record)]
    if not found:
        return ""
    lines = [COLUMNS, *found]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def failure_lines(record: RunRecord) -> list[str]:
    """One line per failed or errored SLO and invariant, for stderr, CI logs and the report."""
    lines = []
    for slo in record.slos:
        if slo.verdict != "pass":
            why = f" ({slo.error})" if slo.error else ""
            why += f"; {slo.detail}" if slo.detail else ""
            lines.append(
                f"SLO {slo.verdict.upper()}: {slo.name} [phase {slo.phase}] {measure(slo)}{why}"
            )
    for inv in record.invariants:
        if inv.verdict != "pass":
            # The detail says it in the invariant's own terms (lost writes, stale reads).
            examples = "; e.g. " + ", ".join(inv.lost_examples[:3]) if inv.lost_examples else ""
            lines.append(f"INVARIANT {inv.verdict.upper()}: {inv.name}: {inv.detail}{examples}")
    return lines


def failover_lines(record: RunRecord) -> list[str]:
    """The failover manager's promotions and demotions (derived after the run from where
    each shard's primary was, harness.slo.failover), one a line, in time order."""
    t0 = time_zero(record)
    found = in_order(e for e in record.events if e.kind in FAILOVER_KINDS)
    lines = [f"failover at {e.t - t0:+.1f} s: {e.message}" for e in found]
    # And how each region outage moved its users through DNS (harness.slo.dns_failover).
    moves = in_order(e for e in record.events if e.kind == DNS_FAILOVER)
    return lines + [f"DNS failover of the outage at {e.t - t0:+.1f} s: {e.message}" for e in moves]


def run_lines(record: RunRecord) -> list[str]:
    """What the run guard and the heal found: a run not judged (and why not), the faults
    that never ran, what was left broken and a verdict it overrides."""
    lines = []
    if record.deviation is not None:
        planned = len(record.scenario.get("slos") or []) + len(
            record.scenario.get("invariants") or []
        )
        lines.append(
            f"NOT JUDGED: the run did not happen as planned; none of its {planned} SLOs and"
            " invariants was judged"
        )
    for f in record.faults:
        if f.status == "never_ran":
            lines.append(
                f"NEVER RAN: fault {f.index} ({f.type} on {f.target}, due at"
                f" {f.planned_start_s:g} s)"
            )
    lines += [f"LEFT BROKEN: {item}" for item in record.left_broken]
    if record.left_broken and (record.slos or record.invariants) and record.exit_code != 130:
        lines.append(
            "VERDICT OVERRIDDEN: the checks above were judged, but the stack was left broken"
            " (exit 3)"
        )
    return lines


def summary_lines(record: RunRecord, run_dir: Path | str, *, full_error: bool = False) -> list[str]:
    """One line per failed or errored check, what the run guard and the heal found, the run's
    error (its first line, or all of it with its hint when `full_error`), then the verdict."""
    lines = failure_lines(record) + run_lines(record)
    if record.error:
        text = record.error if full_error else record.error.splitlines()[0]
        lines.append(f"RUN ERROR: {text}")
    code = "-" if record.exit_code is None else str(record.exit_code)
    lines.append(
        f"{run_label(record)}: {record.scenario_name} (exit code {code}); report in {run_dir}"
    )
    return lines


def summary_text(record: RunRecord, run_dir: Path | str) -> str:
    """What the terminal shows when a run ends: the table of checks, the failover manager's
    promotions and demotions, then `summary_lines`."""
    checks = table(record)
    ran = record.load_started_at is not None and checks
    parts = [checks, f"load: {load_model(record)}" if ran else "", *failover_lines(record)]
    parts += summary_lines(record, run_dir, full_error=True)
    return "\n".join(part for part in parts if part)
