"""One scenario run, end to end: stack, safety net, load and faults on one clock, judging,
artifacts. Every exit path heals the stack (faults removed, Toxiproxy reset, containers
started) and writes the run record.

    validate/plan (before this module)  -> ScenarioRun.execute():
      stack up or reuse -> safety reset -> metrics registration -> load + fault schedule
      -> settle -> judge SLOs and invariants -> [always] heal, collect series and logs,
      tear down what we started, save results.json
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import docker

from harness import __version__
from harness.errors import (
    EXIT_INFRA,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_VERDICT_FAILED,
    HarnessError,
    InfraError,
)
from harness.faults.containers import ContainerControl
from harness.faults.runtime import FaultContext, inject
from harness.faults.toxiproxy_client import ToxiproxyClient
from harness.load.runner import LoadProcess, start_load
from harness.load.settings import LoadSettings
from harness.net import free_port
from harness.plan import ScheduledFault, Timeline
from harness.record import Event, FaultRecord, RunRecord, Step, save_record
from harness.run.artifacts import locust_summary, save_container_logs
from harness.run.exporter import FaultExporter, bindable_host
from harness.run.live import phase_at, progress_line
from harness.run.loadconfig import load_settings
from harness.run.options import RunOptions
from harness.run.phases import actual_phases
from harness.run.registration import ScrapeRegistration
from harness.run.scheduler import FaultScheduler
from harness.run.signals import deferred_interrupts, interrupts_raise
from harness.run.stackuse import StackUse, acquire_stack
from harness.scenario.model import Scenario
from harness.stack.status import wait_until_healthy

Say = Callable[[str], None]


class ScenarioRun:
    def __init__(
        self,
        *,
        scenario: Scenario,
        timeline: Timeline,
        options: RunOptions,
        run_dir: Path,
        say: Say,
        live: Say,
    ) -> None:
        self.scenario = scenario
        self.timeline = timeline
        self.options = options
        self.run_dir = run_dir
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
        self.client: docker.DockerClient | None = None
        self.stack: StackUse | None = None
        self.scheduler: FaultScheduler | None = None
        self.exporter: FaultExporter | None = None
        self.registration: ScrapeRegistration | None = None

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
        except Exception as exc:  # a bug of ours: still heal, record and report it
            trace = self.run_dir / "harness-traceback.txt"
            trace.write_text(traceback.format_exc())
            self.record.status, code = "error", EXIT_INFRA
            self.record.error = f"internal error: {exc!r} (traceback in {trace})"
        finally:
            with deferred_interrupts():
                self._finish()
            self.record.exit_code = code
            self.record.ended_at = time.time()
            self.save()
        return code

    def _run(self) -> None:
        with self.step("connect to Docker"):
            from harness.stack.docker_client import connect

            self.client = connect()
        with self.step("stack up"):
            self.stack = acquire_stack(self.client, self.scenario, self.options, say=self.say)
            self.record.stack = self.stack.describe()
        endpoints = self.stack.endpoints
        toxiproxy = ToxiproxyClient(endpoints.toxiproxy)
        containers = ContainerControl(self.client, self.stack.name)
        with self.step("safety reset"):
            toxiproxy.reset()
            healed = containers.heal_all()
            if healed:
                self.event("healed", f"started containers left down: {', '.join(healed)}")
                wait_until_healthy(
                    self.client, self.stack.name, timeout_s=self.options.up_timeout_s
                )
        host = bindable_host(endpoints.gateway)
        self.exporter = FaultExporter(host)
        load_metrics = f"{host}:{free_port(host)}"
        with self.step("register metrics"):
            self.registration = ScrapeRegistration(self.client, self.stack.name, self.run_dir.name)
            self.registration.add("faults", self.exporter.start())
            self.registration.add("loadgen", load_metrics)
        settings = load_settings(
            self.scenario, self.timeline, host=endpoints.router,
            metrics=load_metrics, run_dir=self.run_dir,
        )  # fmt: skip
        with self.step("load and faults"):
            self._drive(settings, toxiproxy, containers)
        time.sleep(self.options.settle_s)  # let the last scrapes land before judging
        with self.step("judge"):
            self._judge()

    def _drive(
        self, settings: LoadSettings, toxiproxy: ToxiproxyClient, containers: ContainerControl
    ) -> None:
        def make(fault: ScheduledFault) -> FaultContext:
            return FaultContext(
                toxiproxy=toxiproxy,
                containers=containers,
                event=lambda kind, msg: self.event(kind, msg, fault.index),
                label=f"f{fault.index}-{fault.spec.type}",
            )

        def on_change(rec: FaultRecord) -> None:
            assert self.exporter is not None
            self.exporter.set(
                rec.index, rec.type, rec.target, 1.0 if rec.status == "applied" else 0.0
            )
            self.event(f"fault_{rec.status}", f"{rec.type} on {rec.target}", rec.index)
            self.save()

        self.scheduler = FaultScheduler(
            self.timeline.faults, lambda f: inject(f.spec, make(f)), on_change=on_change
        )
        self.record.faults = list(self.scheduler.records.values())
        with start_load(settings, processes=self.options.load_workers) as load:
            t0 = _wait_started(load)
            self.record.load_started_at = t0
            self.event("load_started", f"{settings.users} users, {settings.duration_s:.0f} s")
            self._loop(load, t0)
            self.scheduler.tick(self.timeline.duration_s)  # remove whatever ends at the end
            heal_errors = self.scheduler.heal()
            if heal_errors:
                raise InfraError("faults could not be removed: " + "; ".join(heal_errors))
            load.wait(timeout_s=30)
        self.record.load_ended_at = min(time.time(), t0 + self.timeline.duration_s)
        self.event("load_ended", "load generator finished")

    def _loop(self, load: LoadProcess, t0: float) -> None:
        assert self.scheduler is not None
        duration = self.timeline.duration_s
        next_line = 0.0
        while True:
            elapsed = time.time() - t0
            self.scheduler.tick(elapsed)
            if elapsed >= duration or not load.running:
                return
            if elapsed >= next_line:
                done = any(r.removed_at for r in self.scheduler.records.values())
                phase = phase_at(self.scheduler.active, done)
                self.live(progress_line(phase, elapsed, duration, load.progress()))
                next_line = elapsed + 1.0
            cap = min(0.2, next_line - elapsed, duration - elapsed)
            time.sleep(self.scheduler.sleep_s(elapsed, cap))

    def _judge(self) -> None:
        from harness.invariants.run import check_invariants
        from harness.slo.judge import judge_slos
        from harness.slo.prometheus import PrometheusClient

        assert self.stack is not None and self.record.load_started_at is not None
        end = self.record.load_ended_at or time.time()
        self.record.phases = actual_phases(self.record.load_started_at, end, self.record.faults)
        prom = PrometheusClient(self.stack.endpoints.prometheus)
        self.record.slos = judge_slos(
            self.scenario.slos, self.record.phases, self.record.faults, prom
        )
        self.save()
        if self.scenario.invariants:
            self.say(f"checking invariants: {', '.join(self.scenario.invariants)}")
        self.record.invariants = check_invariants(
            list(self.scenario.invariants),
            self.run_dir,
            self.stack.endpoints,
            drain_timeout_s=self.options.drain_timeout_s,
        )

    def _verdict(self) -> int:
        results = [s.verdict for s in self.record.slos] + [
            i.verdict for i in self.record.invariants
        ]
        if all(v == "pass" for v in results):
            self.record.status = "passed"
            return EXIT_OK
        self.record.status = "failed"
        return EXIT_VERDICT_FAILED

    # --- always ----------------------------------------------------------------------------
    def _finish(self) -> None:
        """Heal, collect, tear down. Each part runs even when an earlier one failed."""
        for name, part in (
            ("heal faults", self._heal),
            ("collect series", self._collect_series),
            ("collect logs", self._collect_logs),
            ("unregister metrics", self._unregister),
            ("stack down", self._release_stack),
        ):
            try:
                with self.step(name):
                    part()
            except Exception as exc:  # keep going: the next part may still matter
                self.say(f"{name} failed: {exc}")
                if self.record.error is None and name in ("heal faults", "stack down"):
                    self.record.error = f"{name} failed: {exc}"

    def _heal(self) -> None:
        errors = self.scheduler.heal() if self.scheduler else []
        if self.stack is not None and self.client is not None:
            ToxiproxyClient(self.stack.endpoints.toxiproxy).reset()
            ContainerControl(self.client, self.stack.name).heal_all()
        if errors:
            raise InfraError("; ".join(errors))

    def _collect_series(self) -> None:
        if self.stack is None or self.record.load_started_at is None:
            return
        from harness.slo.prometheus import PrometheusClient
        from harness.slo.series import collect_series

        end = self.record.load_ended_at or time.time()
        prom = PrometheusClient(self.stack.endpoints.prometheus)
        self.record.series = collect_series(prom, self.record.load_started_at - 5, end + 5)
        self.record.load_summary = locust_summary(self.run_dir)

    def _collect_logs(self) -> None:
        if self.stack is not None and self.client is not None:
            self.record.log_errors = save_container_logs(
                self.client, self.stack.name, self.run_dir / "logs", self.record.started_at
            )

    def _unregister(self) -> None:
        if self.registration is not None:
            self.registration.remove_all()
        if self.exporter is not None:
            self.exporter.stop()

    def _release_stack(self) -> None:
        if self.stack is not None and self.client is not None:
            self.stack.release(self.client, say=self.say)


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
