#!/bin/sh
# Checks the settings, then runs HAProxy in the foreground (master-worker, -db) as PID 1.
# ROLE=entry: a region's entry (entry.cfg reads ENTRY_REGION and WEB_ADDR); otherwise the geo
# router (haproxy.cfg reads EAST_ADDR, WEST_ADDR and FAILOVER from the environment itself).
set -e
if [ "${ROLE:-router}" = entry ]; then
  : "${ENTRY_REGION:?ENTRY_REGION must name the region}" "${WEB_ADDR:?WEB_ADDR must be host:port}"
  export ENTRY_REGION WEB_ADDR
  if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then exec "$@"; fi
  haproxy -c -q -f /etc/haproxy/entry.cfg
  exec haproxy -W -db -f /etc/haproxy/entry.cfg "$@"
fi
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
