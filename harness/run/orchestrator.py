"""One scenario run, end to end: stack, safety net, load and faults on one clock, judging,
artifacts. Every exit path heals the stack (faults removed, Toxiproxy reset, containers
started) and writes the run record.

    validate/plan (before this module)  -> ScenarioRun.execute():
      connect -> stack up or reuse -> safety reset -> metrics registration
      -> load + fault schedule -> settle -> judge SLOs and invariants
      -> [always] the cleanups, last acquired first, then save results.json

The run builds no client: it receives a StackProvider (harness/ports.py), whose `acquire()`
returns the Target it talks to; `harness.run.compose` builds the bundled stack's. Cleanups
live in one ExitStack, each registered the moment its resource is acquired, so adding a
resource is one line and the order of the cleanups follows from the order of acquisition.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

from harness import __version__
from harness.errors import (
    EXIT_INFRA,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_VERDICT_FAILED,
    HarnessError,
    InfraError,
    RunDeviated,
)
from harness.faults.effects import FaultEffects
from harness.faults.runtime import FaultContext, inject
from harness.invariants.run import check_invariants
from harness.load.ledger import Ledger, read_ledger
from harness.load.settings import LoadSettings
from harness.plan import ScheduledFault, Timeline
from harness.ports import LoadProcess, StackProvider
from harness.record import Event, FaultRecord, RunRecord, Step, save_record
from harness.run.artifacts import locust_summary
from harness.run.guard import LoadPlan, RunGuard, exit_code
from harness.run.healing import first_line, heal_faults, left_broken_error, safety_net
from harness.run.live import phase_at, progress_line
from harness.run.loadconfig import load_settings
from harness.run.options import RunOptions
from harness.run.phases import actual_phases
from harness.run.scheduler import FaultScheduler
from harness.run.signals import deferred_interrupts, interrupts_raise
from harness.scenario.model import Scenario
from harness.slo.charts import DNS_ANSWERS_CHART, PRIMARY_CHART, SERVED_BY_HOME_CHART
from harness.slo.dns_failover import DNS_FAILOVER, dns_failover
from harness.slo.failover import failover_events
from harness.slo.judge import judge_slos
from harness.slo.preflight import check_queries
from harness.slo.series import collect_series
from harness.target import Target
from harness.vocabulary import REGIONS

Say = Callable[[str], None]


class ScenarioRun:
    def __init__(
        self,
        *,
        scenario: Scenario,
        timeline: Timeline,
        options: RunOptions,
        run_dir: Path,
        stack: StackProvider,
        say: Say,
        live: Say,
    ) -> None:
        self.scenario = scenario
        self.timeline = timeline
        self.options = options
        self.run_dir = run_dir
        self.stack = stack
        self.say = say
        self.live = live
        self.record = RunRecord(
            run_id=run_dir.name,
            harness_version=__version__,
            scenario_name=scenario.name,
            scenario_file=str(options.scenario_path),
            scenario=scenario.model_dump(mode="json", by_alias=True),
            seed=scenario.load.seed,
        )
        self._cleanups = ExitStack()

    # --- bookkeeping -----------------------------------------------------------------------
    def save(self) -> None:
        save_record(self.record, self.run_dir)

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        step = Step(name=name, started_at=time.time())
        self.record.steps.append(step)
        try:
            yield step
        except KeyboardInterrupt:
            step.status, step.error = "interrupted", "interrupted by a signal"
            raise
        except BaseException as exc:
            step.status = "failed"
            step.error = exc.render() if isinstance(exc, HarnessError) else repr(exc)
            raise
        finally:
            step.ended_at = time.time()
            self.save()

    def event(self, kind: str, message: str, fault: int | None = None) -> None:
        self.record.events.append(Event(t=time.time(), kind=kind, message=message, fault=fault))

    def on_exit(self, name: str, cleanup: Callable[[], object], *, vital: bool = False) -> None:
        """Register a cleanup as its resource is acquired. Cleanups run last first, on every
        path, each as a step of its own; one that fails is said and the others still run. A
        vital one (healing, stack removal) that fails leaves the stack broken: it is recorded
        in `left_broken` and makes the exit 3 whatever the checks said (`_broken_override`)."""

        def run() -> None:
            try:
                with self.step(name):
                    cleanup()
            except Exception as exc:  # keep going: the next cleanup may still matter
                self.say(f"{name} failed: {exc}")
                if vital:
                    self.record.left_broken.append(f"{name}: {first_line(exc)}")

        self._cleanups.callback(run)

    # --- the run ---------------------------------------------------------------------------
    def execute(self) -> int:
        """Run the scenario; return the exit code (0 pass, 1 fail, 3 infra, 130 interrupted)."""
        self.save()
        code = EXIT_INTERRUPTED
        try:
            with interrupts_raise():
                self._run()
            code = self._verdict()
        except KeyboardInterrupt:
            self.record.status, code = "interrupted", EXIT_INTERRUPTED
            self.say("interrupted: healing the stack")
        except HarnessError as err:
            self.record.status, self.record.error, code = "error", err.render(), err.exit_code
            if isinstance(err, RunDeviated):
                self.record.deviation = err.message
        except Exception as exc:  # a bug of ours: still heal, record and report it
            trace = self.run_dir / "harness-traceback.txt"
            trace.write_text(traceback.format_exc())
            self.record.status, code = "error", EXIT_INFRA
            self.record.error = f"internal error: {exc!r} (traceback in {trace})"
        finally:
            with deferred_interrupts():
                self._cleanups.close()
            code = self._broken_override(code)
            self.record.exit_code = code
            self.record.ended_at = time.time()
            self.save()
        return code

    def _broken_override(self, code: int) -> int:
        """A heal or removal that failed leaves the stack broken: exit 3 even if every check
        passed (the verdict is overridden), and the error names what is left and the fix.
        An interrupted run keeps 130: the person who pressed Ctrl-C reads the message."""
        if not self.record.left_broken:
            return code
        err = left_broken_error(self.record.left_broken, self.options.stack_name)
        self.say(err.message)
        self.record.error = (
            err.render() if self.record.error is None else f"{self.record.error}\n{err.render()}"
        )
        if code == EXIT_INTERRUPTED:
            return code
        self.record.status = "error"
        return EXIT_INFRA

    def _run(self) -> None:
        with self.step("connect to Docker"):
            self.stack.connect()
        with self.step("stack up"):
            target = self.stack.acquire()
            self.on_exit("stack down", self.stack.release, vital=True)
            self.record.stack = target.describe
        # What the run saw is collected while the stack is still there (after the healing).
        self.on_exit("collect logs", self._collect_logs)
        self.on_exit("collect series", lambda: self._collect_series(target))
        with self.step("safety reset"):
            self.on_exit("reset faults", lambda: safety_net(target, self.record.faults), vital=True)
            target.links.reset()
            healed = target.containers.heal_all()
            if healed:
                self.event("healed", f"started containers left down: {', '.join(healed)}")
                self.stack.wait_healthy()
        with self.step("register metrics"):
            address = target.fault_gauge.start()
            self.on_exit("stop fault metrics", target.fault_gauge.stop)
            scrape = target.scrape()
            self.on_exit("unregister metrics", scrape.remove_all)
            scrape.add("faults", address)
            scrape.add("loadgen", target.loadgen_metrics)
        with self.step("check queries"):
            check_queries(
                self.scenario.slos,
                target.prometheus,
                at=time.time(),
                source=self.record.scenario_file,
            )
        endpoints = target.endpoints
        settings = load_settings(
            self.scenario, self.timeline, host=endpoints.entries[REGIONS[0]],
            metrics=target.loadgen_metrics, run_dir=self.run_dir,
            dns=endpoints.dns, entry_port=endpoints.entry_port,
        )  # fmt: skip
        if target.warm_up is not None:
            with self.step("warm up"):
                self.event("warmed_up", target.warm_up())
        with self.step("load and faults"):
            self._drive(target, settings)
        time.sleep(self.options.settle_s)  # let the last scrapes land before judging
        with self.step("judge"):
            self._judge(target)

    def _drive(self, target: Target, settings: LoadSettings) -> None:
        def make(fault: ScheduledFault, effects: FaultEffects) -> FaultContext:
            return FaultContext(
                effects=effects,  # the scheduler reads the first effect's stamp from it
                links=target.links,
                containers=target.containers,
                event=lambda kind, msg: self.event(kind, msg, fault.index),
                label=f"f{fault.index}-{fault.spec.type}",
            )

        def on_change(rec: FaultRecord) -> None:
            value = 1.0 if rec.in_effect else 0.0  # from the first effect to the removal's end
            target.fault_gauge.set(rec.index, rec.type, rec.target, value)
            self.event(f"fault_{rec.status}", f"{rec.type} on {rec.target}", rec.index)
            self.save()

        scheduler = FaultScheduler(
            self.timeline.faults, lambda f, e: inject(f.spec, make(f, e)), on_change=on_change
        )
        self.on_exit("heal faults", lambda: heal_faults(scheduler), vital=True)
        self.record.faults = list(scheduler.records.values())
        duration = self.timeline.duration_s
        plan = LoadPlan.of(settings, processes=self.options.load_workers, run_dir=self.run_dir)
        guard = RunGuard(plan)
        with target.load(settings, processes=self.options.load_workers) as load:
            t0 = _wait_started(load)
            self.record.load_started_at = t0
            self.event("load_started", f"{settings.users} users, {settings.duration_s:.0f} s")
            self.save()  # a run killed from here on still says when its load began
            self._loop(scheduler, load, t0, guard)
            elapsed = min(time.time() - t0, duration)
            self.record.load_ended_at = t0 + elapsed
            # What has not begun by now never will: not applied and removed at once.
            never_ran = scheduler.cancel_pending()
            if not load.running:  # ended by itself: judge nothing if it ended early
                guard.check_end(elapsed, exit_code(load, 5.0), never_ran)
            scheduler.tick(duration)  # remove whatever ends at the end
            heal_errors = scheduler.heal()
            if heal_errors:
                raise InfraError("faults could not be removed: " + "; ".join(heal_errors))
            guard.check_end(elapsed, exit_code(load, 30.0), never_ran)
        self.event("load_ended", "load generator finished")

    def _loop(
        self, scheduler: FaultScheduler, load: LoadProcess, t0: float, guard: RunGuard
    ) -> None:
        duration = self.timeline.duration_s
        next_line = 0.0
        while True:
            elapsed = time.time() - t0
            # The load first: a fault due now is not applied to a run whose load has died.
            if elapsed >= duration or not load.running:
                return
            scheduler.tick(elapsed)
            guard.check_faults(self.record.faults)
            if elapsed >= next_line:
                done = any(r.removed_at for r in scheduler.records.values())
                phase = phase_at(scheduler.active, done)
                progress = load.progress()
                guard.saw(progress)
                self.live(progress_line(phase, elapsed, duration, progress))
                next_line = elapsed + 1.0
            guard.check_users(elapsed)
            cap = min(0.2, next_line - elapsed, duration - elapsed)
            time.sleep(scheduler.sleep_s(elapsed, cap))

    def _judge(self, target: Target) -> None:
        assert self.record.load_started_at is not None
        end = self.record.load_ended_at or time.time()
        self.record.phases = actual_phases(self.record.load_started_at, end, self.record.faults)
        # The load has stopped: its ledger is complete. Read once, for the SLOs read from it
        # (write_unavailable_s) and the invariants.
        ledger = self._resolve_unreached(target, read_ledger(self.run_dir))
        self.record.slos = judge_slos(
            self.scenario.slos,
            self.record.phases,
            self.record.faults,
            target.prometheus,
            ledger=ledger,
        )
        self.save()
        if self.scenario.invariants:
            self.say(f"checking invariants: {', '.join(self.scenario.invariants)}")
        with closing(target.open_shards()) as shards, closing(target.open_queue()) as queue:
            self.record.invariants = check_invariants(
                list(self.scenario.invariants),
                self.run_dir,
                shards=shards,
                queue=queue,
                drain_timeout_s=self.options.drain_timeout_s,
                ledger=ledger,
            )

    def _resolve_unreached(self, target: Target, ledger: Ledger) -> Ledger:
        """Unanswered writes that no entry of the stack logged never reached it: not written."""
        if target.reached_requests is None or not ledger.unknowns:
            return ledger
        since = (self.record.load_started_at or time.time()) - 5
        try:
            return ledger.resolve_unreached(target.reached_requests(since))
        except HarnessError as exc:  # then they stay unknown, and the detail says why
            self.event("warning", f"which writes reached the stack is unknown: {exc.message}")
            return ledger

    def _verdict(self) -> int:
        results = [s.verdict for s in self.record.slos] + [
            i.verdict for i in self.record.invariants
        ]
        if all(v == "pass" for v in results):
            self.record.status = "passed"
            return EXIT_OK
        self.record.status = "failed"
        return EXIT_VERDICT_FAILED

    # --- cleanups (registered in _run) -----------------------------------------------------
    def _collect_series(self, target: Target) -> None:
        if self.record.load_started_at is None:
            return
        end = self.record.load_ended_at or time.time()
        start = self.record.load_started_at
        self.record.series = collect_series(target.prometheus, start - 5, end + 5)
        # The failover manager's promotions and demotions, from where each primary was.
        self.record.events += failover_events(self.record.series.get(PRIMARY_CHART, []))
        self.record.events += self._dns_breakdowns()
        self.record.load_summary = locust_summary(self.run_dir)

    def _dns_breakdowns(self) -> list[Event]:
        """Per region outage, how its users moved through DNS (detection, answer change, last
        client moved), from the DNS answers and the requests by serving region."""
        answers = self.record.series.get(DNS_ANSWERS_CHART, [])
        served = self.record.series.get(SERVED_BY_HOME_CHART, [])
        if not answers:
            return []
        stack = self.scenario.stack
        events = []
        for rec in self.record.faults:
            region = rec.target.removeprefix("region:")
            if rec.type != "region_outage" or rec.first_effect_at is None or region not in REGIONS:
                continue
            breakdown = dns_failover(
                region=region,
                fault_start=rec.first_effect_at,
                fault_end=rec.removed_at,
                answers=answers,
                requests=served,
                check_interval_s=stack.dns_check_interval_s,
                ttl_s=stack.dns_ttl_s,
            )
            events.append(
                Event(t=rec.first_effect_at, kind=DNS_FAILOVER, message=breakdown.summary)
            )
        return events

    def _collect_logs(self) -> None:
        logs = self.run_dir / "logs"
        self.record.log_errors = self.stack.save_logs(logs, self.record.started_at)


def _wait_started(load: LoadProcess, timeout_s: float = 30.0) -> float:
    """The load's time zero: when Locust has created its history file (it starts the test
    right after), so fault offsets count from the load's start, not from process start-up."""
    deadline = time.monotonic() + timeout_s
    while not load.history_path.exists():
        if not load.running:
            load.progress()  # raises the crash with Locust's log tail
            raise InfraError("Locust exited before starting the load")
        if time.monotonic() > deadline:
            raise InfraError(
                f"Locust did not start the load within {timeout_s:.0f} s",
                hint=f"see {load.run_dir / 'locust.log'}",
            )
        time.sleep(0.05)
    return time.time()
