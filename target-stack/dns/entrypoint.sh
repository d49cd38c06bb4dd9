#!/bin/sh
# Checks that the harness wrote the server's files, then runs PowerDNS in the foreground as
# PID 1 (no guardian: Docker restarts nothing, and a dead server must show as a dead container).
set -e
CONFIG_DIR=/etc/powerdns
# `docker run IMAGE some-command` runs that command instead (e.g. `pdns_server --version`).
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then exec "$@"; fi
for f in "$CONFIG_DIR/pdns.conf" "$CONFIG_DIR/named.conf" "$CONFIG_DIR/zone.db"; do
  if [ ! -s "$f" ]; then
    echo "missing $f: the harness writes it before the start (harness/stack/dns_zone.py)" >&2
    exit 2
  fi
done
exec pdns_server --daemon=no --guardian=no --config-dir="$CONFIG_DIR" "$@"
