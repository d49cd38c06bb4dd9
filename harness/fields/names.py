"""Names a scenario may use (regions, links), as pydantic types with hints for people.

The valid names come from `harness.vocabulary`, shared with the bundled stack.
A wrong name fails with a message naming it and a `hint` (in the error's context) listing
the valid ones; the loader prints that hint, and the JSON Schema offers them as an enum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from harness.vocabulary import LINK_NAMES, REGIONS


def valid_list(kind: str, names: Sequence[object]) -> str:
    """The hint text for a name error: `valid regions: us-east, us-west`."""
    return f"valid {kind}: " + ", ".join(str(n) for n in names)


def unknown_name(kind: str, value: object, names: Sequence[object]) -> PydanticCustomError:
    """The error for a name that is not one of `names`; the hint travels in the context."""
    return PydanticCustomError(
        "unknown_name",
        "unknown {kind} {given}",
        {"kind": kind, "given": repr(value), "hint": valid_list(kind + "s", names)},
    )


def _one_of(kind: str, names: Sequence[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in names:
            raise unknown_name(kind, value, names)
        return value

    return check


def _choice(kind: str, names: Sequence[str], description: str) -> Any:
    return Annotated[
        str,
        AfterValidator(_one_of(kind, names)),
        WithJsonSchema({"type": "string", "enum": list(names), "description": description}),
    ]


if TYPE_CHECKING:  # plain strings to the type checker; validated names at run time
    Region = str
    RegionOrAll = str
    LinkName = str
else:
    Region = _choice("region", REGIONS, "A region of the bundled stack.")
    RegionOrAll = _choice("region", (*REGIONS, "all"), "A region of the bundled stack, or `all`.")
    LinkName = _choice(
        "link", LINK_NAMES, "A Toxiproxy link: edge-<region>, queue-<region> or shard<N>-<region>."
    )
