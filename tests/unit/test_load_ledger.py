from __future__ import annotations

import pytest
from requests.structures import CaseInsensitiveDict

from harness.load.ledger import (
    LedgerWriter,
    UnknownWrite,
    commit_of,
    outcome_unknown,
    read_ledger,
)


def test_writer_and_merge_of_several_process_files(tmp_path, monkeypatch):
    writer = LedgerWriter(tmp_path)
    writer.user(id=4, shard=0, home="us-east", served="us-east")
    writer.job(id="job-1", user_id=4, home="us-east", served="us-west")
    writer.readback(id=4, status=404)
    writer.close()
    other = tmp_path / "ledger" / "99999999.jsonl"
    other.write_text('{"kind":"user","id":5,"shard":1,"home":"us-west","served":"us-west","t":1}\n')
    ledger = read_ledger(tmp_path)
    assert ledger.files == 2
    assert sorted(u.id for u in ledger.users) == [4, 5]
    assert [(j.id, j.user_id, j.served) for j in ledger.jobs] == [("job-1", 4, "us-west")]
    assert ledger.counts == {"user": 2, "job": 1, "readback": 1, "unknown": 0}
    assert [(r.id, r.status) for r in ledger.readbacks] == [(4, 404)]
    assert ledger.users_by_shard() == {0: [4], 1: [5]}
    assert ledger.skipped_lines == 0


def test_truncated_last_line_of_a_killed_process_is_skipped(tmp_path):
    directory = tmp_path / "ledger"
    directory.mkdir()
    (directory / "1.jsonl").write_text(
        '{"kind":"user","id":8,"shard":0,"home":"us-east","served":"us-east","t":1}\n'
        '{"kind":"job","id":"j-1","user_id":8,"home":"us-east","serv'
    )
    ledger = read_ledger(tmp_path)
    assert [u.id for u in ledger.users] == [8]
    assert ledger.jobs == ()
    assert ledger.skipped_lines == 1


def test_a_run_without_ledger_is_empty(tmp_path):
    ledger = read_ledger(tmp_path)
    assert ledger.counts == {"user": 0, "job": 0, "readback": 0, "unknown": 0}
    assert ledger.files == 0


def test_writer_reopens_in_a_forked_process(tmp_path, monkeypatch):
    writer = LedgerWriter(tmp_path)
    writer.user(id=1, shard=1, home="us-east", served="us-east")
    monkeypatch.setattr("os.getpid", lambda: 424242)  # as after Locust forks a worker
    writer.user(id=2, shard=2, home="us-west", served="us-west")
    writer.close()
    assert (tmp_path / "ledger" / "424242.jsonl").read_text().count("\n") == 1
    assert read_ledger(tmp_path).files == 2


def test_unknown_outcomes_are_written_and_read_back(tmp_path):
    writer = LedgerWriter(tmp_path)
    writer.unknown(op="user", home="us-east", served="none", status=0)
    writer.unknown(op="job", home="us-west", served="us-west", status=503, user_id=8)
    writer.user(id=4, shard=0, home="us-east", served="us-east")
    writer.close()
    ledger = read_ledger(tmp_path)
    assert ledger.counts == {"user": 1, "job": 0, "readback": 0, "unknown": 2}
    first, second = ledger.unknowns
    assert first == UnknownWrite(
        op="user", home="us-east", served="none", status=0, user_id=None, t=first.t
    )
    assert (second.op, second.status, second.user_id, second.served) == ("job", 503, 8, "us-west")
    assert first.t > 0 and ledger.skipped_lines == 0


def test_an_unknown_of_an_unknown_op_is_skipped(tmp_path):
    directory = tmp_path / "ledger"
    directory.mkdir()
    (directory / "1.jsonl").write_text(
        '{"kind":"unknown","op":"delete","home":"us-east","served":"none","status":0,'
        '"user_id":null,"t":1}\n'
    )
    ledger = read_ledger(tmp_path)
    assert ledger.unknowns == () and ledger.skipped_lines == 1


@pytest.mark.parametrize(
    ("status", "error", "unknown"),
    [
        (0, TimeoutError("timed out"), True),
        (0, ConnectionResetError(), True),
        (0, None, True),
        (0, ConnectionRefusedError(), False),  # never reached the stack
        (500, None, True),
        (503, None, True),
        (504, None, True),
        (404, None, False),  # a definite no
        (400, None, False),
    ],
)
def test_which_failed_writes_have_an_unknown_outcome(
    status: int, error: BaseException | None, unknown: bool
) -> None:
    assert outcome_unknown(status, error) is unknown


COMMIT_HEADERS = {
    "X-Committed-By": "shard-2-us-west",
    "X-Commit-Timeline": "3",
    "X-Commit-Time": "1700000000.250000",
}


def test_a_writes_answer_says_where_it_was_committed():
    assert commit_of(COMMIT_HEADERS) == {
        "node": "shard-2-us-west",
        "timeline": 3,
        "committed_at": 1700000000.25,
    }


def test_commit_headers_are_read_whatever_their_case():
    # Locust's answers carry requests' case-insensitive headers, as a server may send them
    headers = CaseInsensitiveDict({k.lower(): v for k, v in COMMIT_HEADERS.items()})
    assert commit_of(headers)["node"] == "shard-2-us-west"
    assert commit_of(headers)["timeline"] == 3


def test_an_answer_without_commit_headers_commits_nowhere_known():
    assert commit_of({}) == {"node": None, "timeline": None, "committed_at": None}
    assert commit_of({"X-Committed-By": ""})["node"] is None


@pytest.mark.parametrize(
    "garbage",
    [
        {"X-Commit-Timeline": "three", "X-Commit-Time": "yesterday"},
        {"X-Commit-Timeline": "3.5", "X-Commit-Time": ""},
        {"X-Commit-Timeline": "", "X-Commit-Time": "12:00"},
    ],
)
def test_unreadable_commit_headers_are_none_not_an_error(garbage):
    commit = commit_of({"X-Committed-By": "shard-0-us-east", **garbage})
    assert commit == {"node": "shard-0-us-east", "timeline": None, "committed_at": None}


def test_commit_info_is_kept_in_the_ledger_and_read_back(tmp_path):
    writer = LedgerWriter(tmp_path)
    writer.user(id=6, shard=2, home="us-east", served="us-east", commit=commit_of(COMMIT_HEADERS))
    writer.job(id="6-ab", user_id=6, home="us-east", served="us-west", commit=commit_of({}))
    writer.user(id=10, shard=2, home="us-west", served="us-west")  # from before commit info
    writer.close()
    ledger = read_ledger(tmp_path)
    first, old = ledger.users
    assert (first.node, first.timeline, first.committed_at) == (
        "shard-2-us-west",
        3,
        1700000000.25,
    )
    assert (old.node, old.timeline, old.committed_at) == (None, None, None)
    (job,) = ledger.jobs
    assert (job.node, job.timeline, job.committed_at) == (None, None, None)
    assert ledger.skipped_lines == 0
