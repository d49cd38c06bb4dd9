"""The two-data-centre data checks, from recorded ledgers: `single_primary` (no split brain,
from each acknowledged write's committing node and timeline) and the RPO of `no_lost_writes`
(the time span and shards of the lost acknowledged users)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.invariants.checks import no_lost_writes, single_primary
from harness.invariants.run import check_invariants
from harness.load.ledger import Ledger, read_ledger
from harness.record import InvariantResult, RunRecord
from tests.fakes import FakeQueue, FakeShards


def recorded(tmp_path: Path, text: str) -> Ledger:
    """A ledger as the load generator leaves it (JSON lines), read back by read_ledger."""
    (tmp_path / "ledger").mkdir(exist_ok=True)
    (tmp_path / "ledger" / "311.jsonl").write_text(text.strip() + "\n")
    return read_ledger(tmp_path)


def user(id: int, node: str | None, timeline: int | None, at: float | None, t: float = 0) -> str:
    def js(value: object) -> str:
        return "null" if value is None else f'"{value}"' if isinstance(value, str) else str(value)

    return (
        f'{{"kind":"user","id":{id},"shard":{id % 4},"home":"us-east","served":"us-east",'
        f'"t":{t or (at or 0) + 0.003},"node":{js(node)},"timeline":{js(timeline)},'
        f'"committed_at":{js(at)}}}'
    )


def job(id: str, user_id: int, node: str, timeline: int, at: float) -> str:
    return (
        f'{{"kind":"job","id":"{id}","user_id":{user_id},"home":"us-west","served":"us-west",'
        f'"t":{at + 0.003},"node":"{node}","timeline":{timeline},"committed_at":{at}}}'
    )


EAST0, WEST0, EAST1, WEST1 = (
    "shard-0-us-east",
    "shard-0-us-west",
    "shard-1-us-east",
    "shard-1-us-west",
)

# A clean failover of shard 0: us-east commits on timeline 1 until the region is lost at 1030,
# us-west is promoted (timeline 2) and takes writes from 1041 on. Shard 1 stays in us-west.
CLEAN_FAILOVER = "\n".join(
    [
        user(0, EAST0, 1, 1000.0),
        user(4, EAST0, 1, 1010.0),
        job("1-0", 8, EAST0, 1, 1029.9),
        user(1, WEST1, 1, 1005.0),
        user(12, WEST0, 2, 1041.2),
        user(16, WEST0, 2, 1050.0),
        user(5, WEST1, 1, 1060.0),
    ]
)

# Split brain (no fencing): us-east, cut off from the witness, keeps committing shard 0 on
# timeline 1 until 1052 while us-west, promoted, commits it on timeline 2 from 1041.
SPLIT_BRAIN = "\n".join(
    [
        user(0, EAST0, 1, 1000.0),
        user(4, EAST0, 1, 1030.0),
        user(20, EAST0, 1, 1045.5),
        job("7-0", 24, EAST0, 1, 1052.0),
        user(12, WEST0, 2, 1041.0),
        user(16, WEST0, 2, 1060.0),
        user(1, WEST1, 1, 1005.0),
        user(5, WEST1, 1, 1060.0),
    ]
)


@pytest.mark.parametrize(
    ("text", "verdict", "counts", "detail", "examples"),
    [
        pytest.param(
            CLEAN_FAILOVER,
            "pass",
            (7, 7, 0),
            [
                "7 acknowledged writes with their committing node: one primary at a time",
                "shard 0: shard-0-us-east (timeline 1, 3 writes) then shard-0-us-west "
                "(timeline 2, 2 writes); shard 1: shard-1-us-west (timeline 1, 2 writes)",
            ],
            [],
            id="clean failover",
        ),
        pytest.param(
            SPLIT_BRAIN,
            "fail",
            (8, 5, 3),
            [
                "split brain: shard 0: shard-0-us-east and shard-0-us-west took writes at the"
                " same time 1 times, 11.0 s in all",
                "both took writes for 11.0 s",
                "3 writes committed during the overlaps",
            ],
            [
                "user 12 (committed by shard-0-us-west during a split brain)",
                "user 20 (committed by shard-0-us-east during a split brain)",
                "job 7-0 (committed by shard-0-us-east during a split brain)",
            ],
            id="split brain",
        ),
        pytest.param(
            "\n".join([user(0, EAST0, None, 1000.0), user(4, WEST0, None, 1000.0)]),
            "fail",
            (2, 0, 2),
            ["both took writes for 0.0 s", "timeline unknown"],
            [
                "user 0 (committed by shard-0-us-east during a split brain)",
                "user 4 (committed by shard-0-us-west during a split brain)",
            ],
            id="same instant, timelines unknown: both sides at risk",
        ),
        pytest.param(
            "\n".join(
                [
                    user(0, EAST0, 1, 1000.0),
                    user(4, EAST0, 3, 1040.0),  # the same node, promoted back: no conflict
                    user(8, WEST0, 2, 1020.0),
                    user(12, WEST0, 2, 1030.0),
                ]
            ),
            "pass",
            (4, 4, 0),
            ["one primary at a time"],
            [],
            id="failover and failback",
        ),
        pytest.param(
            "\n".join(
                [
                    user(0, EAST0, 1, 1000.0),
                    user(4, None, None, None, t=1020.0),  # an old ledger line: not judged
                    user(8, "unknown", 1, 1021.0),  # the stack could not name its node
                    user(12, EAST1, 1, 1022.0),  # shard 0's write said shard 1's node
                    user(16, WEST0, 2, 1040.0),
                ]
            ),
            "pass",
            (2, 2, 0),
            [
                "2 acknowledged writes with their committing node (1 without commit info "
                "(node, commit time), 2 committed by a node not of their shard (e.g. 'unknown', "
                "'shard-1-us-east'): not judged)"
            ],
            [],
            id="writes without commit info are counted, not judged",
        ),
    ],
)
def test_single_primary(
    tmp_path: Path,
    text: str,
    verdict: str,
    counts: tuple[int, int, int],
    detail: list[str],
    examples: list[str],
) -> None:
    result = single_primary(recorded(tmp_path, text))
    assert result.name == "single_primary"
    assert result.verdict == verdict
    assert (result.acknowledged, result.found, result.lost) == counts
    for part in detail:
        assert part in result.detail
    assert result.lost_examples == examples


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        pytest.param(
            "\n".join(user(i, None, None, None, t=1000.0 + i) for i in range(3)),
            "3 writes acknowledged, none judged: 3 without commit info",
            id="an old ledger",
        ),
        pytest.param(
            '{"kind":"readback","id":1,"status":200,"t":1.0}',
            "the load generator saw no user or photo job write acknowledged",
            id="no write",
        ),
    ],
)
def test_single_primary_with_nothing_to_check_is_an_error(
    tmp_path: Path, text: str, detail: str
) -> None:
    result = single_primary(recorded(tmp_path, text))
    assert result.verdict == "error"
    assert detail in result.detail and "nothing was checked" in result.detail


def test_single_primary_is_run_from_the_ledger_alone(tmp_path: Path) -> None:
    recorded(tmp_path, SPLIT_BRAIN)
    unreadable = FakeShards({}, {}, broken=True), FakeQueue(broken=True)  # never asked
    [result] = check_invariants(
        ["single_primary"], tmp_path, shards=unreadable[0], queue=unreadable[1]
    )
    assert result.verdict == "fail" and "split brain: shard 0" in result.detail


# --- no_lost_writes: the RPO -----------------------------------------------------------------
# Asynchronous replication, us-east lost at 1030: the last writes its primaries of shards 0
# and 2 acknowledged (users 8, 20, 2 and 6, from 1026.5 to 1029.9) never reached us-west.
LOST_WRITES = "\n".join(
    [
        user(0, EAST0, 1, 1000.0),
        user(4, EAST0, 1, 1020.0),
        user(8, EAST0, 1, 1026.5),
        user(20, EAST0, 1, 1029.9),
        user(2, "shard-2-us-east", 1, 1028.0),
        user(6, None, None, None, t=1029.0),  # acknowledged, no commit info: its `t` stands in
        user(1, WEST1, 1, 1027.0),
        user(24, WEST0, 2, 1041.0),
    ]
)
FOUND = {0: {0, 4, 24}, 1: {1}, 2: set(), 3: set()}


def test_lost_writes_give_their_count_time_span_and_shards(tmp_path: Path) -> None:
    result = no_lost_writes(recorded(tmp_path, LOST_WRITES), FOUND)
    assert result.verdict == "fail"
    assert (result.acknowledged, result.found, result.lost) == (8, 4, 4)
    assert result.lost_span_s == pytest.approx(3.4)  # 1026.5 .. 1029.9
    assert result.lost_by_shard == {0: 2, 2: 2}
    assert (
        "4 lost, committed over 3.4 s (RPO: first to last lost write), by shard: shard 0: 2, "
        "shard 2: 2"
    ) in result.detail
    assert result.lost_examples[0] == "user 2 (on no shard, expected shard 2)"


def test_the_rpo_is_kept_in_results_json(tmp_path: Path) -> None:
    result = no_lost_writes(recorded(tmp_path, LOST_WRITES), FOUND)
    record = RunRecord(
        run_id="r", harness_version="0", scenario_name="s", scenario_file="s.yaml",
        scenario={}, seed=1, invariants=[result],
    )  # fmt: skip
    [again] = RunRecord.model_validate_json(record.model_dump_json()).invariants
    assert (again.lost_span_s, again.lost_by_shard) == (result.lost_span_s, {0: 2, 2: 2})
    # A record from before the RPO was kept still loads.
    old = InvariantResult.model_validate({"name": "no_lost_writes", "verdict": "pass"})
    assert (old.lost_span_s, old.lost_by_shard) == (None, {})


def test_nothing_lost_has_no_rpo(tmp_path: Path) -> None:
    ledger = recorded(tmp_path, CLEAN_FAILOVER)
    result = no_lost_writes(ledger, {0: {0, 4, 12, 16}, 1: {1, 5}})
    assert result.verdict == "pass"
    assert (result.lost_span_s, result.lost_by_shard) == (None, {})
    assert "RPO" not in result.detail
