#!/bin/sh
# Checks the settings, then runs HAProxy in the foreground (master-worker, -db) as PID 1.
# entry.cfg reads ENTRY_REGION (the region it serves, its backend's name) and WEB_ADDR (the
# region's web replicas, host:port) from the environment.
set -e
# `docker run IMAGE some-command` runs that command instead (e.g. `haproxy -vv`).
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then exec "$@"; fi
: "${ENTRY_REGION:?ENTRY_REGION must name the region}" "${WEB_ADDR:?WEB_ADDR must be host:port}"
export ENTRY_REGION WEB_ADDR
haproxy -c -q -f /etc/haproxy/entry.cfg
exec haproxy -W -db -f /etc/haproxy/entry.cfg "$@"
