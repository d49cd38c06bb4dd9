"""`consumer_death`: queue workers die mid-job.

The chosen worker containers are killed with SIGKILL (a real process death, not a graceful
stop), so the jobs they held stay pending in the queue's consumer group. They are started again
when the window ends unless `restart: false`. While they are dead the backlog grows, and a live
worker must take over (reclaim) the jobs the dead ones held.

With `mid_job` (the default) each kill waits for its worker to take a job, and the fault counts
the kills that landed inside one (`killed_in_job` in its record's effects). A worker that stays
idle is killed anyway (the window must open on time), but if no kill at all landed inside a
job, the orphaned jobs that the reclaim and the no_lost_jobs check exist for never existed: the
fault did not bite, and the run ends in an error (exit 3), never a pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from harness.faults.runtime import FaultContext, FaultDidNotBite, containers_down
from harness.faults.spec import FaultSpec, register_spec
from harness.fields.names import RegionOrAll
from harness.vocabulary import REGIONS, tier_service


def _count(value: Any) -> int | Literal["all"]:
    if value == "all":
        return "all"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise PydanticCustomError(
        "worker_count",
        "expected a number of workers (1 or more) or 'all', got {given}",
        {"given": repr(value)},
    )


WorkerCount = Annotated[
    int | Literal["all"],
    PlainValidator(_count),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"const": "all"}]}),
]


MID_JOB_WAIT_S = 5.0  # how long a mid-job kill waits for a worker to take a job


@register_spec
class ConsumerDeathSpec(FaultSpec):
    """Kill `count` workers of `region` (or all of them) and, by default, restart them after."""

    type: Literal["consumer_death"] = "consumer_death"
    region: RegionOrAll = Field(default="all", description="Whose workers die: a region, or all.")
    count: WorkerCount = Field(
        default="all", description="How many workers die in each chosen region: a number, or all."
    )
    restart: bool = Field(
        default=True, description="Start the killed workers again when the window ends."
    )
    mid_job: bool = Field(
        default=True,
        description=(
            "Kill each worker while it is processing a job (waiting up to 5 s for it to take "
            "one), so the jobs it held are really orphaned; false kills at once."
        ),
    )

    def regions(self) -> tuple[str, ...]:
        """The regions whose workers are killed."""
        return REGIONS if self.region == "all" else (self.region,)

    def targets(self) -> tuple[str, ...]:
        return tuple(
            t
            for r in self.regions()
            for t in (f"region:{r}", f"service:{tier_service('worker', r)}")
        )

    @contextmanager
    def inject(self, ctx: FaultContext) -> Iterator[None]:
        victims = []
        for region in self.regions():
            workers = ctx.containers.instances(tier_service("worker", region))
            victims += workers if self.count == "all" else workers[: self.count]
        kill = ctx.containers.kill
        if self.mid_job:

            def kill(container: Any) -> None:
                busy = ctx.containers.wait_worker_busy(container, MID_JOB_WAIT_S)
                ctx.containers.kill(container)
                ctx.effects.count("killed_in_job" if busy else "killed_idle")
                ctx.event("worker_state", f"{container.name} {'busy' if busy else 'idle'} at kill")

        up = ctx.containers.start if self.restart else None
        with containers_down(ctx, victims, down=kill, up=up, verb="killed"):
            if self.mid_job and not ctx.effects.counts.get("killed_in_job"):
                # Raised inside the block, so leaving it restarts the workers (if asked).
                raise FaultDidNotBite(
                    f"killed {len(victims)} worker{'s' if len(victims) != 1 else ''}, none "
                    "inside a job: the fault did not bite",
                    hint=f"each kill waited {MID_JOB_WAIT_S:g} s for its worker to take a job; "
                    "does the scenario's load submit photos (submit_photo) at that time?",
                )
            yield
