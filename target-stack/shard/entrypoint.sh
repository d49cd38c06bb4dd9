#!/bin/sh
# Runs as user postgres: the exporter in the background, then Patroni as PID 1 (it runs and
# stops PostgreSQL).
#
# BOOTSTRAP=leader: this node brings the shard's cluster up from the image's data directory
# (Patroni takes an existing data directory over as the primary).
# BOOTSTRAP=replica: this node's copy of the image's cluster is thrown away on its first start,
# and it waits until the leader holds the shard's lock in etcd: with an empty data directory
# and no leader Patroni would race to initdb a cluster of its own. Patroni then clones the
# leader with pg_basebackup. `.from-image` is only in a data directory nobody has started.
set -e
if [ -f "$PGDATA/.from-image" ]; then
  if [ "${BOOTSTRAP:-leader}" = replica ]; then
    find "$PGDATA" -mindepth 1 -delete
    python3 /wait_for_etcd.py leader
  else
    rm -f "$PGDATA/.from-image"
  fi
fi
python3 /wait_for_etcd.py  # Patroni exits when etcd does not answer at its start
export DATA_SOURCE_NAME="${DATA_SOURCE_NAME:-postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
# Only the queries in /exporter-queries.yaml (plus pg_up): see that file for why.
prometheus-postgres-exporter --web.listen-address=:9187 --disable-default-metrics \
  --disable-settings-metrics --extend.query-path=/exporter-queries.yaml \
  --no-collector.database --no-collector.bgwriter --log.level=error &
exec patroni /etc/patroni.yml
