#!/bin/sh
# Runs as user postgres: the exporter in the background, then Patroni as PID 1 (it runs and
# stops PostgreSQL).
#
# A data directory nobody has started is empty (a new volume): it gets a copy of the image's
# seed cluster (made at build time, the same on every node of every shard). With
# BOOTSTRAP=leader, Patroni takes that cluster over as the shard's primary (it promotes it: a
# new timeline forks at the seed's end). With BOOTSTRAP=replica the node first waits until the
# leader holds the shard's lock in etcd (wait_for_etcd.py): a node with data and no leader
# would race to become the primary itself. Patroni then starts the copy as the leader's
# standby, and PostgreSQL follows the leader's timeline from the seed's end, where the two
# histories are still one: nothing to clone with pg_basebackup, nothing to rewind.
set -e
if [ -z "$(ls -A "$PGDATA")" ]; then
  if [ "${BOOTSTRAP:-leader}" = replica ]; then
    python3 /wait_for_etcd.py leader
  fi
  cp -a "$SEED/." "$PGDATA/"
fi
python3 /wait_for_etcd.py  # Patroni exits when etcd does not answer at its start
export DATA_SOURCE_NAME="${DATA_SOURCE_NAME:-postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
# Only the queries in /exporter-queries.yaml (plus pg_up): see that file for why. One Go
# processor: a scrape a second needs no more, and Go's scheduler spinning on idle cores cost
# about a fifth of such a process's CPU (measured on etcd alone: 7.3 -> 5.7 ms/s).
GOMAXPROCS=1 prometheus-postgres-exporter --web.listen-address=:9187 --disable-default-metrics \
  --disable-settings-metrics --extend.query-path=/exporter-queries.yaml \
  --no-collector.database --no-collector.bgwriter --log.level=error &
exec patroni /etc/patroni.yml
