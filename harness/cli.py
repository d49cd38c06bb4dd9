"""The `harness` command: parses arguments, calls the library, maps errors to exit codes.

No logic lives here beyond wiring; every command is a few lines that call a module named for
its stage (scenario/, plan, stack/, load/, faults/, slo/, report/).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Annotated

import typer

from harness.errors import EXIT_INFRA, EXIT_INTERRUPTED, EXIT_USAGE, HarnessError
from harness.stack.config import BUGS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # main() turns every error into one message, no traceback
    help="Chaos Harness: does the stack survive a region outage, dead consumers and a hot shard?",
)

StackOpt = Annotated[
    str, typer.Option("--stack", help="Name of the stack (containers are named chaos-<name>-...).")
]


def _fail(err: HarnessError) -> None:
    print(err.render(), file=sys.stderr)
    raise typer.Exit(err.exit_code)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
) -> None:
    """Check scenario files; report every problem with file, line and field. Exit 0 or 2.

    Warnings (a scenario that runs but may not test what it reads as) go to stderr and do
    not change the exit code."""
    from harness.plan_warnings import plan_warnings
    from harness.scenario.loader import read_scenario

    failed = False
    for path in files:
        try:
            loaded = read_scenario(path, plan_warnings)
        except HarnessError as err:
            print(err.render(), file=sys.stderr)
            failed = True
        else:
            for warning in loaded.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(f"{path}: ok ({loaded.scenario.name})")
    if failed:
        raise typer.Exit(EXIT_USAGE)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (generated from the models)."""
    from harness.scenario.schema import schema_json

    print(schema_json())


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="The scenario file to run.")],
    stack: StackOpt = "default",
    reuse_stack: Annotated[
        bool, typer.Option(help="Use the running stack (from `harness up`); never remove it.")
    ] = False,
    keep_stack: Annotated[bool, typer.Option(help="Leave the stack running afterwards.")] = False,
    load_workers: Annotated[
        int, typer.Option(min=1, max=64, help="Locust processes (more cores).")
    ] = 1,
    reports: Annotated[Path, typer.Option(help="Where run folders are written.")] = Path("reports"),
    drain_timeout: Annotated[
        float, typer.Option(help="Seconds no_lost_jobs waits for the queue to drain.")
    ] = 60.0,
    bug: Annotated[
        list[str] | None,
        typer.Option(
            help=f"Seed a bug into the stack (repeatable): {', '.join(BUGS)}. "
            "Test-only: shows that the gate fails when the system is broken."
        ),
    ] = None,
) -> None:
    """Run a scenario: stack, geo-weighted load, faults on schedule, SLOs and invariants.

    Exit code: 0 all SLOs and invariants pass, 1 one failed, 2 invalid scenario,
    3 infrastructure error, 130 interrupted.
    """
    from harness.run.entry import run_file
    from harness.run.options import RunOptions

    options = RunOptions(
        scenario_path=scenario,
        reports_dir=reports,
        stack_name=stack,
        reuse_stack=reuse_stack,
        keep_stack=keep_stack,
        load_workers=load_workers,
        drain_timeout_s=drain_timeout,
        bugs=tuple(bug or ()),
    )
    try:
        code = run_file(options, say=_progress, live=_live)
    except HarnessError as err:
        _fail(err)
    raise typer.Exit(code)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder holding results.json.")],
) -> None:
    """Render a run's report.html, junit.xml and the reports index again from results.json."""
    from harness.run.entry import rerender

    try:
        path = rerender(run_dir)
    except HarnessError as err:
        _fail(err)
    print(path)


@app.command()
def up(
    stack: StackOpt = "default",
    workers_per_region: Annotated[int, typer.Option(min=1, max=8)] = 2,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for every service.")] = 180.0,
) -> None:
    """Build what is missing, start the stack, wait until healthy, print the endpoints."""
    from harness.faults.toxiproxy_client import stack_links
    from harness.run.signals import interrupts_raise
    from harness.stack.config import StackConfig
    from harness.stack.docker_client import connect
    from harness.stack.lifecycle import bring_up

    try:
        # Ctrl-C and SIGTERM (a CI job's timeout) alike remove the partly started stack, and
        # so does Ctrl-C when the shell started the harness with SIGINT ignored (`cmd &`).
        with interrupts_raise():
            client = connect()
            endpoints = bring_up(
                client,
                StackConfig(name=stack, workers_per_region=workers_per_region),
                timeout_s=timeout,
                progress=_progress,
            )
            stack_links(endpoints).reset()  # the WAN's latency on every link between sites
    except HarnessError as err:
        _fail(err)
    for key, value in endpoints.as_dict().items():
        print(f"{key:12} {value}")


@app.command()
def status(
    stack: StackOpt = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show each service of the stack, whether it answers its probe now, and its ports."""
    from harness.stack.docker_client import connect
    from harness.stack.status import stack_status

    try:
        report = stack_status(connect(), stack)
    except HarnessError as err:
        _fail(err)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    if not report.services:
        print(f"stack {stack!r} is not running")
        raise typer.Exit(1)
    for svc in report.services:
        ports = ", ".join(f"{p}->{h}" for p, h in sorted(svc.ports.items()))
        ready = "ready" if svc.health == "healthy" else "DOWN"
        print(f"{svc.name:18} {svc.state:9} {ready:6} {ports}")
        if svc.health != "healthy":
            print(f"{'':18} {svc.health}")
    for key, value in report.endpoints.items():
        print(f"{key:12} {value}")


@app.command()
def down(stack: StackOpt = "default") -> None:
    """Remove everything `up` started for this stack (containers, network, volumes)."""
    _remove(stack)


@app.command()
def cleanup(
    stack: Annotated[
        str | None, typer.Option("--stack", help="Only this stack (default: every stack).")
    ] = None,
) -> None:
    """Remove everything any harness run left behind (found by label), of every stack, and
    stop load generators whose harness was killed."""
    _stop_orphan_loads()
    _remove(stack)


def _stop_orphan_loads() -> None:
    """Locust processes a killed harness left running (harness/load/registry.py)."""
    from harness.load.registry import stop_orphans

    stopped = stop_orphans(say=_progress)
    print(f"stopped {len(stopped)} orphaned load generator{'s' if len(stopped) != 1 else ''}")


def _remove(stack: str | None) -> None:
    from harness.stack.docker_client import connect
    from harness.stack.teardown import tear_down

    try:
        removed = tear_down(connect(), stack)
    except HarnessError as err:
        _fail(err)
    print(f"removed {removed}")


@app.command()
def heal(stack: StackOpt = "default") -> None:
    """Remove every fault from a running stack: Toxiproxy reset, stopped and paused containers
    started, load generators of killed harnesses stopped. For a stack whose harness was killed
    mid-fault (SIGKILL leaves no chance to heal)."""
    from harness.faults.containers import DockerContainers
    from harness.faults.toxiproxy_client import stack_links
    from harness.stack.docker_client import connect
    from harness.stack.lifecycle import discover_endpoints

    _stop_orphan_loads()  # first: an orphaned load would keep hitting the stack being healed
    try:
        client = connect()
        stack_links(discover_endpoints(client, stack)).reset()
        started = DockerContainers(client, stack).heal_all()
    except HarnessError as err:
        _fail(err)
    print(f"Toxiproxy reset; started {', '.join(started) if started else 'no container'}")


@app.command()
def check(stack: StackOpt = "default") -> None:
    """Check that both regions run the same images and configuration, then send a few
    requests through both regions and a photo job; show where each was served."""
    from harness.stack.docker_client import connect
    from harness.stack.lifecycle import discover_endpoints
    from harness.stack.smoke import check_regions_identical, check_stack

    try:
        client = connect()
        endpoints = discover_endpoints(client, stack)
        print(check_regions_identical(client, stack))
        results = check_stack(endpoints)
    except HarnessError as err:
        _fail(err)
    for r in results:
        print(
            f"{r.region:8} user {r.user_id} (shard {r.user_id % 4}) served by {r.served_by}; "
            f"job {r.job_id} done in {r.job_seconds:.2f} s"
        )


@app.command()
def images(
    rebuild: Annotated[bool, typer.Option(help="Rebuild even when up to date.")] = False,
) -> None:
    """Make every image the stack needs (base image, Toxiproxy, the project's images)."""
    from harness.stack.docker_client import connect
    from harness.stack.images import ensure_images

    try:
        ids = ensure_images(connect(), progress=_progress, force=rebuild)
    except HarnessError as err:
        _fail(err)
    for tag, image_id in ids.items():
        print(f"{tag:40} {image_id[:19]}")


def _progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def _live(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # not a HarnessError: say what it was, keep the trace in a file
        import docker.errors

        trace = Path(tempfile.gettempdir()) / f"chaos-harness-error-{os.getpid()}.txt"
        trace.write_text(traceback.format_exc())
        if isinstance(exc, docker.errors.DockerException):
            print(f"error: the Docker engine refused: {exc}", file=sys.stderr)
            print("  hint: `docker ps -a` shows the engine's state; retry once it settles",
                  file=sys.stderr)  # fmt: skip
        else:
            print(f"error: internal error: {exc!r}", file=sys.stderr)
        print(f"  (traceback in {trace})", file=sys.stderr)
        sys.exit(EXIT_INFRA)
