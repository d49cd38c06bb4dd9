"""Patroni's configuration for one shard node, as the harness writes it into the container.

Each shard is a Patroni cluster (its scope, `shard-0`) of two members, one per region, whose
leader lock lives in the witness site's etcd. Everything that crosses sites goes through
Toxiproxy: a node reaches etcd through its region's witness link, and the other region reaches
it (replication, pg_rewind, Patroni's REST API) through its WAN links, which are therefore its
connect addresses. Pure: a function of the StackConfig.
"""

from __future__ import annotations

import json
from typing import Any

from harness.stack import topology as t
from harness.stack.config import StackConfig

# The failover timings. A primary that cannot renew its lock within `retry_timeout` demotes
# itself (fencing), well before the lock's `ttl` runs out and the other region may promote:
# Patroni's rule loop_wait + 2 * retry_timeout <= ttl keeps the two apart. 12 s makes a
# failover fit a scenario of a minute or two (Patroni's default of 30 s would not).
TTL_S = 12
LOOP_WAIT_S = 2
RETRY_TIMEOUT_S = 4
# What the web tier and the ledger read to name the node that committed a write.
NODE_SETTING = "chaos.node"
# Where the harness writes each node's configuration (the shard image runs `patroni` on it).
PATRONI_FILE = "/etc/patroni.yml"


def leader_key(shard: int) -> str:
    return f"{t.PATRONI_NAMESPACE}shard-{shard}/leader"


def patroni_config(config: StackConfig, shard: int, region: str) -> dict[str, Any]:
    node = t.shard_node(shard, region)
    return {
        "scope": f"shard-{shard}",
        "namespace": t.PATRONI_NAMESPACE,
        "name": node,
        "log": {"level": "WARNING"},  # its INFO is a line per loop per node
        "restapi": {
            "listen": f"0.0.0.0:{t.PATRONI_PORT}",
            "connect_address": f"toxiproxy:{t.wan_api_link(shard, region).listen_port}",
        },
        # use_proxies: the address is a proxy, not a member to discover the others from
        # (etcd would answer with its own address, which no region can reach directly).
        "etcd3": {
            "hosts": [f"toxiproxy:{t.witness_link(region).listen_port}"],
            "protocol": "http",
            "use_proxies": True,
        },
        "bootstrap": {
            "dcs": {
                "ttl": TTL_S,
                "loop_wait": LOOP_WAIT_S,
                "retry_timeout": RETRY_TIMEOUT_S,
                # Synchronous: a commit returns once the standby has flushed it, and only a
                # node that was synchronous may be promoted, so a failover loses no
                # acknowledged write. When the standby is gone Patroni drops it from the
                # synchronous set (through etcd) and the primary goes on alone.
                "synchronous_mode": config.synchronous,
                # Asynchronous: a standby up to 1 MB of WAL behind may still be promoted.
                "maximum_lag_on_failover": 1048576,
                "postgresql": {
                    "use_pg_rewind": True,  # a returning old primary rejoins as a standby
                    "use_slots": True,
                    "parameters": {
                        "wal_log_hints": "on",  # pg_rewind needs it (no data checksums)
                        "hot_standby": "on",
                        "wal_keep_size": "128MB",
                    },
                },
            }
        },
        "postgresql": {
            "listen": f"0.0.0.0:{t.SHARD_PORT}",
            "connect_address": f"toxiproxy:{t.wan_pg_link(shard, region).listen_port}",
            "data_dir": "/var/lib/postgresql/data",
            "bin_dir": "/usr/lib/postgresql/15/bin",
            "pgpass": "/tmp/pgpass",
            "authentication": {
                "superuser": {"username": "postgres"},
                "replication": {"username": "postgres"},
                "rewind": {"username": "postgres"},
            },
            "parameters": {
                "unix_socket_directories": "/run/postgresql",
                "shared_buffers": "32MB",
                "max_connections": 100,
                NODE_SETTING: node,
                # A standby whose stream could not start (its leader has not made its slot yet,
                # or the new primary of a failover is not up yet) tries again after this, not
                # PostgreSQL's 5 s: a fresh standby streams a loop of its leader after starting.
                "wal_retrieve_retry_interval": "1s",
                # Seeded bug delayed_standby: a standby replays WAL 5 s after it arrives.
                **({"recovery_min_apply_delay": "5s"} if "delayed_standby" in config.bugs else {}),
            },
            # Seeded bug no_fencing: a callback promotes a primary Patroni fenced straight back.
            **(
                {"callbacks": {"on_role_change": "/keep_primary.sh"}}
                if "no_fencing" in config.bugs
                else {}
            ),
            # Trust: a throwaway stack on private networks (as the single-node shards had).
            "pg_hba": [
                "local all all trust",
                "host all all 0.0.0.0/0 trust",
                "host replication all 0.0.0.0/0 trust",
            ],
        },
    }


def patroni_yaml(config: StackConfig, shard: int, region: str) -> str:
    """PATRONI_FILE's content (JSON is YAML)."""
    return json.dumps(patroni_config(config, shard, region), indent=2) + "\n"
