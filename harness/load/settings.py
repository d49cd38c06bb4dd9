"""What the load generator is asked to do: the scenario's load section, resolved for one run.

The harness writes a `LoadSettings` to `<run_dir>/load-settings.json` and hands the path to the
locustfile in the environment variable `CHAOS_LOAD_SETTINGS`; the locustfile reads it back. The
class checks only its own contract (the scenario validator reports a person's mistakes first).
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.vocabulary import REGIONS, SERVICE_NAME, SHARD_COUNT, TASKS

SETTINGS_ENV = "CHAOS_LOAD_SETTINGS"
SETTINGS_FILE = "load-settings.json"
MODELS: tuple[str, ...] = ("closed", "open")


@dataclass(frozen=True, kw_only=True)
class Hotspot:
    """During [start_s, end_s) after the load starts, `share` of reads and photo submissions go to
    `celebrities` users living on `shard`."""

    shard: int
    share: float
    celebrities: int
    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.shard < SHARD_COUNT:
            problems.append(f"shard {self.shard} not in 0..{SHARD_COUNT - 1}")
        if not 0.0 <= self.share <= 1.0:
            problems.append(f"share {self.share} not in 0..1")
        if self.celebrities < 1:
            problems.append(f"celebrities {self.celebrities} < 1")
        if not 0 <= self.start_s < self.end_s:
            problems.append(f"window [{self.start_s}, {self.end_s}) is empty or negative")
        if problems:
            raise ValueError("invalid hotspot: " + "; ".join(problems))

    def active(self, elapsed_s: float) -> bool:
        return self.start_s <= elapsed_s < self.end_s


@dataclass(frozen=True, kw_only=True)
class LoadSettings:
    """One run's load. `geography` maps region -> percent of users (sums to 100); `tasks` maps a
    task name of TASKS -> weight; `think_time_s` is each user's (min, max) pause between
    tasks, drawn from its own seeded RNG.

    `model` "closed" runs `users` looping users; "open" runs `rate` iterations per second
    (all processes together) whatever the answers, at most `max_in_flight` at once, each
    iteration's home region drawn by the geography's percents (harness.load.arrivals).
    Every request gives up after `request_timeout_s`, and one slower than that is a failure.
    `processes` is the number of Locust processes sharing the load (set by start_load).

    Geo DNS (harness.load.resolver), when `dns_host` is set: each user asks the DNS server at
    dns_host:dns_port (an IP address) for `dns_name` with its home region's client subnet,
    each question giving up after `dns_timeout_s`, and sends its requests to
    http://<answer>:<entry_port> with the Host `dns_name`. `stale_share` of the users (0..1)
    ignore TTLs and keep each answer `stale_keep_s`. Without `dns_host`, every request goes
    to `host`, whatever the user's home region (its header is a label: it routes nothing)."""

    host: str
    users: int
    spawn_rate: float
    duration_s: float
    geography: dict[str, float]
    tasks: dict[str, float]
    seed: int
    metrics_host: str
    metrics_port: int
    run_dir: str
    hotspots: tuple[Hotspot, ...] = ()
    think_time_s: tuple[float, float] = (0.5, 1.5)
    model: str = "closed"
    rate: float = 0.0
    max_in_flight: int = 0
    request_timeout_s: float = 5.0
    processes: int = 1
    dns_host: str = ""
    dns_port: int = 0
    dns_name: str = SERVICE_NAME
    dns_timeout_s: float = 1.0
    entry_port: int = 0
    stale_share: float = 0.0
    stale_keep_s: float = 60.0

    def __post_init__(self) -> None:
        # Accept lists (as JSON and callers produce them) but store tuples: the class is frozen.
        object.__setattr__(self, "hotspots", tuple(self.hotspots))
        object.__setattr__(self, "think_time_s", tuple(self.think_time_s))
        problems = _problems(self)
        if problems:
            raise ValueError("invalid load settings: " + "; ".join(problems))

    @property
    def uses_dns(self) -> bool:
        """Whether users find the service through the DNS server (else `host` and the header)."""
        return bool(self.dns_host)

    @property
    def in_flight_per_process(self) -> int:
        """Each process's share of max_in_flight, rounded up (at least 1)."""
        return max(1, -(-self.max_in_flight // self.processes))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LoadSettings:
        raw = json.loads(text)
        raw["hotspots"] = tuple(Hotspot(**h) for h in raw.get("hotspots", ()))
        return cls(**raw)

    def write(self) -> Path:
        """Write `<run_dir>/load-settings.json` and return its path."""
        path = Path(self.run_dir) / SETTINGS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> LoadSettings:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def _problems(s: LoadSettings) -> list[str]:
    problems = []
    unknown = sorted(set(s.geography) - set(REGIONS))
    if unknown:
        problems.append(f"unknown regions {unknown} (valid: {list(REGIONS)})")
    if any(p < 0 for p in s.geography.values()) or abs(sum(s.geography.values()) - 100) > 1e-6:
        problems.append(f"geography {s.geography} must be non-negative percents summing to 100")
    bad_tasks = sorted(set(s.tasks) - set(TASKS))
    if bad_tasks:
        problems.append(f"unknown tasks {bad_tasks} (valid: {list(TASKS)})")
    if any(w < 0 for w in s.tasks.values()) or sum(s.tasks.values()) <= 0:
        problems.append(f"task weights {s.tasks} must be non-negative with a positive sum")
    if s.users < 0 or s.spawn_rate <= 0 or s.duration_s <= 0:
        problems.append("users must be >= 0, spawn_rate and duration_s > 0")
    low, high = s.think_time_s
    if not 0 <= low <= high:
        problems.append(f"think_time_s {s.think_time_s} must be 0 <= min <= max")
    if s.model not in MODELS:
        problems.append(f"model {s.model!r} is not one of {list(MODELS)}")
    if s.model == "open" and (s.rate <= 0 or s.max_in_flight < 1):
        problems.append("the open model needs rate > 0 and max_in_flight >= 1")
    if s.request_timeout_s <= 0 or s.processes < 1:
        problems.append("request_timeout_s must be > 0 and processes >= 1")
    return problems + _dns_problems(s)


def _dns_problems(s: LoadSettings) -> list[str]:
    problems = []
    if not 0.0 <= s.stale_share <= 1.0 or s.stale_keep_s <= 0:
        problems.append(f"stale_share {s.stale_share} must be in 0..1 and stale_keep_s > 0")
    if not s.uses_dns:
        if s.dns_port or s.entry_port or s.stale_share:
            problems.append("dns_port, entry_port and stale_share need a dns_host")
        return problems
    try:
        ipaddress.ip_address(s.dns_host)
    except ValueError:
        problems.append(f"dns_host {s.dns_host!r} is not an IP address (a resolver asks one)")
    if not (0 < s.dns_port < 65536 and 0 < s.entry_port < 65536):
        problems.append(f"dns_port {s.dns_port} and entry_port {s.entry_port} must be 1..65535")
    if not s.dns_name or s.dns_timeout_s <= 0:
        problems.append("dns_name must not be empty and dns_timeout_s must be > 0")
    return problems
