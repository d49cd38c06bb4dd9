"""The bundled stack's Dockerfiles and configs keep the contract the harness relies on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.slo.promql import ENTRY_FRONTEND
from harness.stack import images, probes
from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.entry_log import request_ids
from harness.stack.patroni import patroni_config
from harness.stack.spec import ENTRY_IMAGE, stack_spec
from harness.vocabulary import REQUEST_ID_HEADER

STACK = Path(__file__).resolve().parents[2] / "target-stack"
IMAGES = ("app", "entry", "queue", "shard", "prometheus", "toxiproxy", "witness", "dns")


@pytest.mark.parametrize("image", IMAGES)
def test_dockerfile_is_debian_only_and_leaves_health_to_the_harness(image: str) -> None:
    text = (STACK / image / "Dockerfile").read_text()
    instructions = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert instructions[0] == "FROM debian:bookworm-slim"
    assert "HEALTHCHECK" not in text
    assert not re.search(r"\bpip3? +install", text)  # Debian packages only
    if "apt-get install" in text:
        assert "--no-install-recommends" in text
        assert "rm -rf /var/lib/apt/lists/*" in text


def test_every_project_image_is_built_from_a_directory_here() -> None:
    # images.py builds each tag from its directory (hashing that directory decides a rebuild)
    assert images.STACK_DIR == STACK
    assert set(images.PROJECT_IMAGES.values()) == set(IMAGES) - {"toxiproxy"}
    assert images.PROJECT_IMAGES[ENTRY_IMAGE] == "entry"
    for directory in images.PROJECT_IMAGES.values():
        assert (STACK / directory / "Dockerfile").is_file(), directory


def test_toxiproxy_binary_is_never_committed() -> None:
    assert "toxiproxy-server" in (STACK / "toxiproxy" / ".gitignore").read_text().split()
    assert 'ENTRYPOINT ["/toxiproxy"]' in (STACK / "toxiproxy" / "Dockerfile").read_text()


def test_entrypoints_are_executable() -> None:
    for script in STACK.glob("*/entrypoint.sh"):
        assert script.stat().st_mode & 0o111, script


def haproxy_sections(cfg: str) -> dict[str, list[str]]:
    """An HAProxy configuration as section header -> its lines, comments and blanks left out."""
    sections: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in cfg.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace():
            lines.append(" ".join(line.split()))
        else:
            lines = sections.setdefault(" ".join(line.split()), [])
    return sections


ENTRY = STACK / "entry"
# The start of an httplog line up to the captures (tests/unit/test_entry_log.py has whole ones).
PREFIX = "172.20.0.5:41234 [01/Dec/2026:15:30:00.123] entry us-east/web1 "


def test_entry_cfg_keeps_the_contract_the_harness_relies_on() -> None:
    cfg = (ENTRY / "entry.cfg").read_text()
    s = haproxy_sections(cfg)
    spec = next(c for c in stack_spec(StackConfig()) if c.instance == "entry-us-east")
    # Users come in on the edge link's upstream port.
    [name] = [h for h, lines in s.items() if f"bind :{t.ENTRY_PORT}" in lines]
    entry = s[name]
    assert all(e.upstream.endswith(f":{t.ENTRY_PORT}") for e in map(t.edge_link, t.REGIONS))
    # The SLO's entry tier reads this front end's and the regions' backends' metrics.
    assert name.startswith("frontend ") and f'proxy="{name.split()[1]}"' == ENTRY_FRONTEND
    assert entry.count('default_backend "${ENTRY_REGION}"') == 1
    backend = s['backend "${ENTRY_REGION}"']
    # Every variable the cfg reads is one the harness sets on the container, and nothing else.
    assert set(re.findall(r"\$\{(\w+)\}", cfg)) == set(spec.env) == {"ENTRY_REGION", "WEB_ADDR"}

    # The replicas behind it: one slot per address Docker's DNS gives for WEB_ADDR, checked.
    [template] = [line for line in backend if line.startswith("server-template ")]
    assert re.fullmatch(r'server-template \w+ 1-\d+ "\$\{WEB_ADDR\}" .*', template)
    assert " resolvers docker " in f"{template} "
    assert "nameserver dns 127.0.0.11:53" in s["resolvers docker"]
    assert "option httpchk GET /healthz" in backend and "http-check expect status 200" in backend
    assert any(" check" in f" {line} " for line in [template, *s["defaults"]] if "server" in line)

    # The log line entry_log.py reads: httplog on stdout, the request id in the only capture
    # block (a second capture, or a response capture, would put `|` or another {...} where
    # the parser looks), every request logged.
    assert s["global"][0].startswith("log stdout ")
    assert "log global" in s["defaults"] and "option httplog" in s["defaults"]
    assert "log-format" not in cfg and "capture response" not in cfg
    [capture] = [line for line in entry if line.startswith("capture ")]
    found = re.fullmatch(rf"capture request header {REQUEST_ID_HEADER} len (\d+)", capture)
    assert found is not None
    assert not any("set-log-level" in line or "dontlog-normal" in line for line in entry)
    longest = "f" * int(found.group(1))  # HAProxy truncates a longer id to `len`
    for request_id in ("1f3a-42", "3fffff-4294967296", longest):
        line = f'{PREFIX}0/0/1/5/6 201 245 - - ---- 3/3/0/0/0 0/0 {{{request_id}}} "POST /users"'
        assert request_ids(line) == {request_id}

    # Prometheus scrapes /metrics, and the harness's readiness probe reads /stats, both here.
    monitoring = s["frontend monitoring"]
    assert f"bind :{t.ENTRY_METRICS_PORT}" in monitoring
    assert "http-request use-service prometheus-exporter if { path /metrics }" in monitoring
    assert "stats enable" in monitoring and "stats uri /stats" in monitoring
    assert spec.probe == probes.http(t.ENTRY_METRICS_PORT, "/stats")
    assert spec.publish == [t.ENTRY_METRICS_PORT]

    dockerfile = (ENTRY / "Dockerfile").read_text()
    assert "COPY entry.cfg /etc/haproxy/" in dockerfile
    assert f"EXPOSE {t.ENTRY_PORT} {t.ENTRY_METRICS_PORT}" in dockerfile


FAKE_HAPROXY = """#!/bin/sh
echo "$* | $ENTRY_REGION | $WEB_ADDR" >> "$CALLS"
exit "${FAKE_RC:-0}"
"""


def run_entrypoint(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, list[str]]:
    """entrypoint.sh under sh, with a fake `haproxy` first on PATH that logs its calls."""
    fake = tmp_path / "haproxy"
    fake.write_text(FAKE_HAPROXY)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    base = {"PATH": f"{tmp_path}:{os.environ.get('PATH', '/usr/bin:/bin')}", "CALLS": str(calls)}
    done = subprocess.run(
        ["sh", str(ENTRY / "entrypoint.sh"), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    lines = calls.read_text().splitlines() if calls.exists() else []
    return done.returncode, done.stdout + done.stderr, lines


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_entrypoint_requires_entry_region_and_web_addr_then_checks_and_runs_entry_cfg(
    tmp_path: Path,
) -> None:
    settings = {"ENTRY_REGION": "us-east", "WEB_ADDR": "web-us-east:8080"}
    for missing in settings:
        given = {k: v for k, v in settings.items() if k != missing}
        for env in (given, {**given, missing: ""}):
            rc, output, calls = run_entrypoint(tmp_path, **env)
            assert rc != 0 and missing in output and calls == [], (env, output)
    rc, output, calls = run_entrypoint(tmp_path, **settings)
    assert rc == 0, output
    assert calls == [
        "-c -q -f /etc/haproxy/entry.cfg | us-east | web-us-east:8080",
        "-W -db -f /etc/haproxy/entry.cfg | us-east | web-us-east:8080",
    ]
    # a configuration HAProxy rejects is never started
    (tmp_path / "calls").unlink()
    rc, _, calls = run_entrypoint(tmp_path, FAKE_RC="1", **settings)
    assert rc == 1 and calls == ["-c -q -f /etc/haproxy/entry.cfg | us-east | web-us-east:8080"]
    # flags go to HAProxy; a command runs instead of it (`docker run IMAGE haproxy -vv`)
    (tmp_path / "calls").unlink()
    rc, _, calls = run_entrypoint(tmp_path, "-V", **settings)
    assert rc == 0 and calls[-1].startswith("-W -db -f /etc/haproxy/entry.cfg -V |")
    (tmp_path / "calls").unlink()
    rc, _, calls = run_entrypoint(tmp_path, "haproxy", "-vv")
    assert rc == 0 and calls == ["-vv |  | "]


def test_shard_schema_has_the_tables_the_invariants_read() -> None:
    schema = (STACK / "shard" / "schema.sql").read_text()
    assert "CREATE SEQUENCE user_seq;" in schema
    users = schema.split("CREATE TABLE users (", 1)[1].split(");", 1)[0]
    jobs = schema.split("CREATE TABLE jobs (", 1)[1].split(");", 1)[0]
    for column in ("id BIGINT PRIMARY KEY", "name TEXT NOT NULL", "region TEXT NOT NULL"):
        assert column in users
    for column in (
        "id TEXT PRIMARY KEY",
        "user_id BIGINT NOT NULL",
        "status TEXT NOT NULL DEFAULT 'queued'",
        "result_digest TEXT",
        "completions INT NOT NULL DEFAULT 0",
        "done_at TIMESTAMPTZ",
    ):
        assert column in jobs


def test_shard_keeps_fsync_and_builds_its_seed_cluster_outside_the_data_volume() -> None:
    dockerfile = (STACK / "shard" / "Dockerfile").read_text()
    # fsync is PostgreSQL's default (on): neither the image nor Patroni's parameters touch it
    parameters = patroni_config(StackConfig(), 0, "us-east")["postgresql"]["parameters"]
    assert "fsync" not in dockerfile.replace("fsync stays on", "")
    assert "fsync" not in parameters and "synchronous_commit" not in parameters
    # The seed is made in $SEED, not in the VOLUME (Docker would copy it into every new
    # volume, on the engine's CPU): the data directory the volume starts from is empty.
    assert "SEED=/var/lib/postgresql/seed" in dockerfile
    assert 'initdb --pgdata="$SEED"' in dockerfile
    assert dockerfile.count('pg_ctl -D "$SEED"') == 2  # started and stopped there
    assert "VOLUME /var/lib/postgresql/data" in dockerfile
    assert f"ROLE {t.DB_USER} LOGIN" in dockerfile and f"DATABASE {t.DB_NAME}" in dockerfile
    # the templates go (a quarter of the seed's files each, copied at every first start),
    # after the harness database is made from template1
    created = dockerfile.index(f"CREATE DATABASE {t.DB_NAME}")
    assert created < dockerfile.index("DROP DATABASE template1")
    assert created < dockerfile.index("DROP DATABASE template0")
    # the readiness check reads pg_stat_replication as the harness user
    assert f"GRANT pg_read_all_stats TO {t.DB_USER}" in dockerfile
    assert f"EXPOSE {t.SHARD_PORT} {t.PATRONI_PORT} {t.SHARD_EXPORTER_PORT}" in dockerfile


def test_shard_node_runs_patroni_from_a_copy_of_the_seed_and_a_replica_waits_for_its_leader() -> (
    None
):
    entrypoint = (STACK / "shard" / "entrypoint.sh").read_text()
    assert entrypoint.rstrip().endswith("exec patroni /etc/patroni.yml")
    fresh = entrypoint.split('if [ -z "$(ls -A "$PGDATA")" ]; then', 1)[1].split("\nfi\n", 1)[0]
    replica, copy = fresh.split("\n  fi\n", 1)
    assert '"${BOOTSTRAP:-leader}" = replica' in replica
    assert "wait_for_etcd.py leader" in replica
    # every fresh node copies the seed, the replica only once its leader holds the lock
    assert copy.strip() == 'cp -a "$SEED/." "$PGDATA/"'
    assert "-delete" not in entrypoint and "pg_basebackup" not in fresh
    assert f":{t.SHARD_EXPORTER_PORT}" in entrypoint


def test_witness_is_etcd_on_the_witness_port() -> None:
    dockerfile = (STACK / "witness" / "Dockerfile").read_text()
    assert "etcd-server" in dockerfile
    assert f"--listen-client-urls=http://0.0.0.0:{t.WITNESS_PORT}" in dockerfile


def test_queue_runs_redis_with_aof_in_data() -> None:
    entrypoint = (STACK / "queue" / "entrypoint.sh").read_text()
    flags = ("--appendonly yes", "--appendfsync everysec", "--dir /data", f"--port {t.QUEUE_PORT}")
    for flag in flags:
        assert flag in entrypoint
    assert f":{t.QUEUE_EXPORTER_PORT}" in entrypoint
