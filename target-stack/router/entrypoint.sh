#!/bin/sh
# Checks the settings, then runs HAProxy in the foreground (master-worker, -db) as PID 1.
# haproxy.cfg reads EAST_ADDR, WEST_ADDR and FAILOVER from the environment itself.
set -e
: "${EAST_ADDR:=toxiproxy:20000}" "${WEST_ADDR:=toxiproxy:20001}" "${FAILOVER:=on}"
case "$FAILOVER" in
  on|off) ;;
  *) echo "FAILOVER must be 'on' or 'off', got '$FAILOVER'" >&2; exit 2 ;;
esac
export EAST_ADDR WEST_ADDR FAILOVER
# `docker run IMAGE some-command` runs that command instead (e.g. `haproxy -vv`).
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then exec "$@"; fi
haproxy -c -q -f /etc/haproxy/haproxy.cfg
exec haproxy -W -db -f /etc/haproxy/haproxy.cfg "$@"
