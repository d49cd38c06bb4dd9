from __future__ import annotations

from harness.load.ledger import LedgerWriter, UnknownWrite, read_ledger


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
