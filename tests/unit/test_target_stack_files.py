"""The bundled stack's Dockerfiles and configs keep the contract the harness relies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.stack import topology as t
from harness.stack.config import StackConfig
from harness.stack.patroni import patroni_config

STACK = Path(__file__).resolve().parents[2] / "target-stack"
IMAGES = ("app", "router", "queue", "shard", "prometheus", "toxiproxy", "witness", "dns")


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


def test_toxiproxy_binary_is_never_committed() -> None:
    assert "toxiproxy-server" in (STACK / "toxiproxy" / ".gitignore").read_text().split()
    assert 'ENTRYPOINT ["/toxiproxy"]' in (STACK / "toxiproxy" / "Dockerfile").read_text()


def test_entrypoints_are_executable() -> None:
    for script in STACK.glob("*/entrypoint.sh"):
        assert script.stat().st_mode & 0o111, script


def test_router_routes_by_home_region_and_fails_over_only_when_on() -> None:
    cfg = (STACK / "router" / "haproxy.cfg").read_text()
    assert f"bind :{t.ROUTER_PORT}" in cfg
    assert f"bind :{t.ROUTER_METRICS_PORT}" in cfg
    assert "use_backend us-west if { req.hdr(X-Home-Region) -m str us-west }" in cfg
    assert "default_backend us-east" in cfg
    assert "use-service prometheus-exporter if { path /metrics }" in cfg
    assert "stats uri /stats" in cfg
    # Each backup server sits inside the FAILOVER=on block and nowhere else.
    for backend, home, other in (("us-east", "EAST", "WEST"), ("us-west", "WEST", "EAST")):
        block = cfg.split(f"\nbackend {backend}\n", 1)[1].split("\n\n", 1)[0]
        assert f'server {backend} "${{{home}_ADDR}}"\n' in block
        guarded = re.search(r'\.if streq\("\$\{FAILOVER\}","on"\)\n(.*?)\n\.endif', block, re.S)
        assert guarded is not None
        assert f'"${{{other}_ADDR}}" backup' in guarded.group(1)
        assert block.count(" backup") == 1
        # the backup only tracks the other backend's check of the same edge: one check each
        assert f"no-check track us-{other.lower()}/us-{other.lower()}" in guarded.group(1)


def test_router_defaults_match_the_topology() -> None:
    dockerfile = (STACK / "router" / "Dockerfile").read_text()
    assert f"EAST_ADDR=toxiproxy:{t.edge_link('us-east').listen_port}" in dockerfile
    assert f"WEST_ADDR=toxiproxy:{t.edge_link('us-west').listen_port}" in dockerfile


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


def test_shard_keeps_fsync_and_declares_its_data_volume_after_initdb() -> None:
    dockerfile = (STACK / "shard" / "Dockerfile").read_text()
    # fsync is PostgreSQL's default (on): neither the image nor Patroni's parameters touch it
    parameters = patroni_config(StackConfig(), 0, "us-east")["postgresql"]["parameters"]
    assert "fsync" not in dockerfile.replace("fsync stays on", "")
    assert "fsync" not in parameters and "synchronous_commit" not in parameters
    # A VOLUME before the RUN that fills it would throw the initialized cluster away.
    volume = dockerfile.index("VOLUME /var/lib/postgresql/data")
    assert dockerfile.index("initdb") < volume
    # and the mark of a never-started data directory is made in it (entrypoint.sh reads it)
    assert dockerfile.index('touch "$PGDATA/.from-image"') < volume
    assert f"ROLE {t.DB_USER} LOGIN" in dockerfile and f"DATABASE {t.DB_NAME}" in dockerfile
    # the readiness check reads pg_stat_replication as the harness user
    assert f"GRANT pg_read_all_stats TO {t.DB_USER}" in dockerfile
    assert f"EXPOSE {t.SHARD_PORT} {t.PATRONI_PORT} {t.SHARD_EXPORTER_PORT}" in dockerfile


def test_shard_node_runs_patroni_and_only_a_fresh_replica_throws_the_image_cluster_away() -> None:
    entrypoint = (STACK / "shard" / "entrypoint.sh").read_text()
    assert entrypoint.rstrip().endswith("exec patroni /etc/patroni.yml")
    fresh = entrypoint.split('if [ -f "$PGDATA/.from-image" ]; then', 1)[1].split("\nfi\n", 1)[0]
    replica, leader = fresh.split("else", 1)
    assert '"${BOOTSTRAP:-leader}" = replica' in replica
    assert 'find "$PGDATA" -mindepth 1 -delete' in replica
    assert "wait_for_etcd.py leader" in replica
    assert "-delete" not in leader and 'rm -f "$PGDATA/.from-image"' in leader
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
