"""The live progress line of a run: phase, elapsed and remaining time, req/s, errors, p95."""

from __future__ import annotations

from harness.load.progress import Progress


def phase_at(active_faults: list[int], any_fault_done: bool) -> str:
    if active_faults:
        return "fault"
    return "recovery" if any_fault_done else "steady"


def progress_line(phase: str, elapsed_s: float, duration_s: float, p: Progress | None) -> str:
    left = max(0.0, duration_s - elapsed_s)
    head = f"[{phase:8}] {elapsed_s:5.0f}s / {duration_s:.0f}s ({left:.0f}s left)"
    if p is None:
        return f"{head}  starting load"
    regions = "  ".join(
        f"{name}: p95 {r.p95_ms:.0f} ms" if r.p95_ms is not None else f"{name}: p95 -"
        for name, r in sorted(p.regions.items())
    )
    p95 = f"{p.p95_ms:.0f} ms" if p.p95_ms is not None else "-"
    return (
        f"{head}  {p.users:3d} users  {p.rps:6.1f} req/s  errors {p.failures_pct:5.1f}%"
        f"  p95 {p95}  {regions}"
    )
