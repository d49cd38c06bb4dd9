"""Bounds shared by several objective kinds: a measured value's max and min, and the
selectors of a client-side measure (home region, kind of request)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from harness.fields.names import Region
from harness.vocabulary import SHARD_COUNT, Request


def need_a_bound(max_: float | None, min_: float | None) -> None:
    if max_ is None and min_ is None:
        raise PydanticCustomError(
            "bound_missing", "give max, min or both", {"hint": "e.g. {max: 0.05}"}
        )


class Limit(BaseModel):
    """Bounds on a measured value: it must stay at or under `max` and at or over `min`."""

    model_config = ConfigDict(extra="forbid")

    # Bounds are finite: `max: .nan` compares false with everything, so nothing could fail it.
    max: float | None = Field(
        default=None, allow_inf_nan=False, description="The value must be at most this."
    )
    min: float | None = Field(
        default=None, allow_inf_nan=False, description="The value must be at least this."
    )

    @model_validator(mode="after")
    def _one_bound(self) -> Limit:
        need_a_bound(self.max, self.min)
        return self


class Bound(Limit):
    """Bounds on a client-side measure: all requests, or those of one home `region` and/or one
    kind of `request`."""

    region: Region | None = Field(default=None, description="Only users of this home region.")
    request: Request | None = Field(
        default=None,
        description=(
            "Only this kind of request: create_user (POST /users), read_user (GET /users/{id}), "
            "submit_photo (POST /users/{id}/photos), read_job (GET /jobs/{id})."
        ),
    )


class TierBound(Limit):
    """Bounds on a server-side measure of one tier (for the shard tier: of one shard, if given)."""

    tier: Literal["entry", "web", "shard"] = Field(description="The tier measured.")
    shard: int | None = Field(
        default=None,
        ge=0,
        lt=SHARD_COUNT,
        description="With tier shard: only queries to this shard (as the web tier times them).",
    )

    @model_validator(mode="after")
    def _shard_only_for_shards(self) -> TierBound:
        if self.shard is not None and self.tier != "shard":
            raise PydanticCustomError(
                "shard_needs_shard_tier",
                "shard only goes with tier: shard",
                {"hint": "use tier: shard, or drop shard"},
            )
        return self
