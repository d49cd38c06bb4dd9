#!/bin/sh
# Runs as user postgres. The exporter runs in the background; postgres is exec'd so it is
# PID 1 and receives the stop signal directly.
set -e
export DATA_SOURCE_NAME="${DATA_SOURCE_NAME:-postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
# Only the queries in /exporter-queries.yaml (plus pg_up): see that file for why.
prometheus-postgres-exporter --web.listen-address=:9187 --disable-default-metrics \
  --disable-settings-metrics --extend.query-path=/exporter-queries.yaml &
exec postgres -D "$PGDATA" "$@"
