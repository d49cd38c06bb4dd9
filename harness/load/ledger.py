"""The ledger: every write the stack acknowledged to the load generator, and every write whose
outcome it never saw.

Each load process appends JSON lines to `<run_dir>/ledger/<pid>.jsonl` (line-buffered, so a
killed process loses at most its last, partial line):

    {"kind": "user", "id": 12, "shard": 0, "home": "us-east", "served": "us-west", "t": 1.7e9,
     "node": "shard-0-us-east", "timeline": 2, "committed_at": 1.7e9}
    {"kind": "job", "id": "1-0", "user_id": 12, "home": "us-east", "served": "us-east", "t": ...}
    {"kind": "readback", "id": 12, "status": 200, "t": ...}
    {"kind": "unknown", "op": "user", "home": "us-east", "served": "none", "status": 0,
     "user_id": null, "t": ...}

`node`, `timeline` and `committed_at` say where the write was committed, as the answer's
X-Committed-By, X-Commit-Timeline and X-Commit-Time headers told (null when it had none): the
shard node, its PostgreSQL timeline (one more after each promotion), and the commit's time on
the stack's clock (containers share the host's). The single_primary invariant reads them.

A `readback` is the answer to reading a user back right after its 201 (status 0: no answer).
An `unknown` is a POST whose outcome the load generator never saw: no answer (status 0: a
timeout, a reset, but not a refused connection), a 5xx, or a 2xx whose body could not be
read. The write may or may not have happened, so the invariants count it apart from `lost`
(Jepsen's word). `op` is "user" (POST /users) or "job" (POST /users/{id}/photos, whose owner
is `user_id`; null for a user).

`read_ledger()` merges the files for the invariant checks. No Locust here.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from harness.vocabulary import (
    COMMIT_TIME_HEADER,
    COMMIT_TIMELINE_HEADER,
    COMMITTED_BY_HEADER,
    NOT_WRITTEN,
    WRITE_OUTCOME_HEADER,
)

LEDGER_DIR = "ledger"


@dataclass(frozen=True, kw_only=True)
class UserWrite:
    id: int
    shard: int
    home: str
    served: str
    t: float
    node: str | None = None  # the shard node that committed it
    timeline: int | None = None
    committed_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class JobWrite:
    id: str
    user_id: int
    home: str
    served: str
    t: float
    node: str | None = None
    timeline: int | None = None
    committed_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class ReadBack:
    id: int
    status: int  # the HTTP status, 0 when the request got no answer
    t: float


@dataclass(frozen=True, kw_only=True)
class UnknownWrite:
    op: str  # "user" or "job"
    home: str
    served: str  # the region that answered, "none" without an answer or header
    status: int  # 0 without an answer, else the HTTP status
    user_id: int | None  # a job's owner; None for a user
    t: float
    request_id: str = ""  # its X-Request-Id: the entries' logs say whether it reached the stack


UNKNOWN_OPS = ("user", "job")


@dataclass(frozen=True, kw_only=True)
class Ledger:
    """All acknowledged writes of a run, in file then line order. `skipped_lines` counts lines
    that were not valid records (the truncated last line of a killed process)."""

    users: tuple[UserWrite, ...]
    jobs: tuple[JobWrite, ...]
    files: int
    skipped_lines: int
    readbacks: tuple[ReadBack, ...] = ()
    unknowns: tuple[UnknownWrite, ...] = ()
    # Writes without a seen outcome that no entry logged: they never reached the stack, so
    # they were not written (a definite no; see harness/stack/entry_log.py).
    unreached: tuple[UnknownWrite, ...] = ()

    def resolve_unreached(self, reached: frozenset[str]) -> Ledger:
        """The ledger with every unknown write whose request id is not in `reached` (the ids
        the stack's entries logged) moved to `unreached`. An unknown without an id (an older
        ledger, a write sent without one) stays unknown."""
        gone = tuple(u for u in self.unknowns if u.request_id and u.request_id not in reached)
        if not gone:
            return self
        kept = tuple(u for u in self.unknowns if not (u.request_id and u.request_id not in reached))
        return replace(self, unknowns=kept, unreached=self.unreached + gone)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "user": len(self.users),
            "job": len(self.jobs),
            "readback": len(self.readbacks),
            "unknown": len(self.unknowns),
        }

    def users_by_shard(self) -> dict[int, list[int]]:
        shards: dict[int, list[int]] = {}
        for user in self.users:
            shards.setdefault(user.shard, []).append(user.id)
        return shards


def commit_of(headers: Mapping[str, str]) -> dict[str, Any]:
    """The ledger's `node`, `timeline`, `committed_at` from an answer's headers (each None
    when missing or unreadable): what a write's answer says about where it was committed."""
    node = headers.get(COMMITTED_BY_HEADER) or None
    try:
        timeline: int | None = int(headers.get(COMMIT_TIMELINE_HEADER, ""))
    except ValueError:
        timeline = None
    try:
        committed_at: float | None = float(headers.get(COMMIT_TIME_HEADER, ""))
    except ValueError:
        committed_at = None
    return {"node": node, "timeline": timeline, "committed_at": committed_at}


def outcome_unknown(
    status: int, error: BaseException | None = None, headers: Mapping[str, str] | None = None
) -> bool:
    """Whether a failed write may still have happened: no answer (a timeout, a reset: status
    0) or a 5xx. A refused connection never reached the stack; a 4xx is a definite no, and so
    is a 5xx with `X-Write-Outcome: not-written` (the web tier found no node to write to, and
    sent nothing: were it wrong, the write would be found without an acknowledgement, which
    no invariant counts as a loss)."""
    if status:
        if headers is not None and headers.get(WRITE_OUTCOME_HEADER) == NOT_WRITTEN:
            return False
        return status >= 500
    return not isinstance(error, ConnectionRefusedError)


class LedgerWriter:
    """Appends records to this process's ledger file. The file is opened on first write, so a
    writer created before Locust forks its worker processes still writes `<its own pid>.jsonl`."""

    def __init__(self, run_dir: str | Path):
        self.directory = Path(run_dir) / LEDGER_DIR
        self._file: IO[str] | None = None
        self._pid = 0

    def _handle(self) -> IO[str]:
        if self._file is None or self._pid != os.getpid():
            self.directory.mkdir(parents=True, exist_ok=True)
            self._pid = os.getpid()
            path = self.directory / f"{self._pid}.jsonl"
            self._file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        return self._file

    def user(
        self, *, id: int, shard: int, home: str, served: str, commit: Mapping[str, Any] = {}
    ) -> None:
        record = {"kind": "user", "id": id, "shard": shard, "home": home, "served": served}
        self._write({**record, **commit})

    def job(
        self, *, id: str, user_id: int, home: str, served: str, commit: Mapping[str, Any] = {}
    ) -> None:
        record = {"kind": "job", "id": id, "user_id": user_id, "home": home, "served": served}
        self._write({**record, **commit})

    def readback(self, *, id: int, status: int) -> None:
        self._write({"kind": "readback", "id": id, "status": status})

    def unknown(
        self,
        *,
        op: str,
        home: str,
        served: str,
        status: int,
        user_id: int | None = None,
        request_id: str = "",
    ) -> None:
        """A POST whose outcome was not seen (see the module docstring)."""
        record = {"kind": "unknown", "op": op, "home": home, "served": served, "status": status}
        self._write({**record, "user_id": user_id, "request_id": request_id})

    def _write(self, record: dict[str, Any]) -> None:
        record["t"] = time.time()
        self._handle().write(json.dumps(record, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.flush()
            self._file.close()
        self._file = None


def read_ledger(run_dir: str | Path) -> Ledger:
    """Merge every `<run_dir>/ledger/*.jsonl`. A run without a ledger directory has an empty
    ledger (no write was acknowledged)."""
    users: list[UserWrite] = []
    jobs: list[JobWrite] = []
    readbacks: list[ReadBack] = []
    unknowns: list[UnknownWrite] = []
    skipped = 0
    paths = sorted((Path(run_dir) / LEDGER_DIR).glob("*.jsonl"))
    for path in paths:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            record = _parse(line)
            if isinstance(record, UserWrite):
                users.append(record)
            elif isinstance(record, JobWrite):
                jobs.append(record)
            elif isinstance(record, ReadBack):
                readbacks.append(record)
            elif isinstance(record, UnknownWrite):
                unknowns.append(record)
            elif line.strip():
                skipped += 1
    return Ledger(
        users=tuple(users),
        jobs=tuple(jobs),
        readbacks=tuple(readbacks),
        unknowns=tuple(unknowns),
        files=len(paths),
        skipped_lines=skipped,
    )


def _parse(line: str) -> UserWrite | JobWrite | ReadBack | UnknownWrite | None:
    try:
        raw = json.loads(line)
        kind = raw.pop("kind")
        if kind == "user":
            return UserWrite(**raw)
        if kind == "job":
            return JobWrite(**raw)
        if kind == "readback":
            return ReadBack(**raw)
        if kind == "unknown" and raw.get("op") in UNKNOWN_OPS:
            return UnknownWrite(**raw)
    except (ValueError, TypeError, KeyError, AttributeError):
        pass
    return None
