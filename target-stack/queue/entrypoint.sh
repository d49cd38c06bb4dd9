#!/bin/sh
# The exporter runs in the background; Redis is exec'd so it is PID 1 and gets SIGTERM
# (and flushes its AOF) when the harness stops the container.
set -e
chown redis:redis /data
# One Go processor, like the shards' exporters (see target-stack/shard/entrypoint.sh).
GOMAXPROCS=1 prometheus-redis-exporter -redis.addr redis://127.0.0.1:6379 -web.listen-address :9121 &
exec setpriv --reuid=redis --regid=redis --init-groups \
  redis-server --appendonly yes --appendfsync everysec --dir /data \
  --protected-mode no --bind 0.0.0.0 --port 6379 "$@"
