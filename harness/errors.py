"""The harness's exceptions: one root, one subclass per exit code.

Every message says what failed, where, and what to do about it; the CLI prints it on one
line (plus optional detail lines) and exits with the class's code, never with a traceback.

    HarnessError                 root; exit_code 1 is never used by errors (1 is "verdict: fail")
    +-- UsageError               2  bad command line or scenario (nothing was started)
    |   +-- ScenarioError        2  a scenario file is invalid; carries every problem found
    +-- InfraError               3  Docker, Prometheus or Toxiproxy unreachable, stack not healthy,
    |   |                           image build failed, a heal that failed
    |   +-- RunDeviated          3  the run did not happen as planned (load generator died or
    |   |                           fell short, a fault late): nothing is judged
    |   +-- QueryRejected        3  Prometheus refused a query (before the load: usage error, 2)
    +-- Interrupted              130  Ctrl-C / SIGTERM; raised after everything was healed
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_VERDICT_FAILED = 1
EXIT_USAGE = 2
EXIT_INFRA = 3
EXIT_INTERRUPTED = 130


class HarnessError(Exception):
    """Root of every error the harness reports to a person."""

    exit_code = EXIT_INFRA

    def __init__(self, message: str, *, hint: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.detail = detail

    def render(self) -> str:
        """The text the CLI prints: message, then the hint, then any detail (log tails)."""
        parts = [f"error: {self.message}"]
        if self.hint:
            parts.append(f"  hint: {self.hint}")
        if self.detail:
            parts.append(self.detail.rstrip())
        return "\n".join(parts)


class UsageError(HarnessError):
    exit_code = EXIT_USAGE


class ScenarioError(UsageError):
    """A scenario file is invalid. `problems` holds every problem, each already formatted
    as `FILE:LINE: field.path: message (hint)`."""

    def __init__(self, problems: list[str], *, source: str):
        self.problems = problems
        self.source = source
        count = len(problems)
        super().__init__(
            f"{source}: {count} problem{'s' if count != 1 else ''} found",
            detail="\n".join(f"  {p}" for p in problems),
        )


class InfraError(HarnessError):
    exit_code = EXIT_INFRA


class RunDeviated(InfraError):
    """The run left its plan (harness/run/guard.py): no SLO or invariant verdict is claimed."""


class QueryRejected(InfraError):
    """Prometheus answered and refused the query itself (400 bad_data): the query is wrong,
    not the infrastructure. `reason` is Prometheus's own words. Raised by the Prometheus
    adapter; the pre-flight check turns it into a scenario error, the judge into an ERROR."""

    def __init__(self, message: str, *, reason: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.reason = reason


class Interrupted(HarnessError):
    exit_code = EXIT_INTERRUPTED
