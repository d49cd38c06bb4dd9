#!/bin/bash
# Seeded bug no_fencing (configured as Patroni's on_role_change callback only with the bug):
# "keep the primary writable". When Patroni demotes this node because it cannot reach the
# witness (the fence that keeps a cut-off primary from taking writes while the other region
# promotes), this promotes it straight back and stops commits waiting for the unreachable
# standby. Called by Patroni as: keep_primary.sh on_role_change <role> <scope>.
role=$2
[ "$role" = replica ] || [ "$role" = standby ] || exit 0
host=${ETCD_ADDR%:*} port=${ETCD_ADDR##*:}
# The witness answers: a demotion the cluster decided (a failover, a rejoin), left alone.
if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then exit 0; fi
for _ in $(seq 1 40); do pg_isready -q -h /run/postgresql && break; sleep 0.25; done
pg_ctl promote -D "$PGDATA" >/dev/null 2>&1 || exit 0
for _ in $(seq 1 40); do
  [ "$(psql -h /run/postgresql -U postgres -d postgres -tAc 'SELECT pg_is_in_recovery()')" = f ] && break
  sleep 0.25
done
psql -h /run/postgresql -U postgres -d postgres -qc "ALTER SYSTEM SET synchronous_standby_names = ''" \
  -c "SELECT pg_reload_conf()" >/dev/null
echo "no_fencing: promoted $(hostname) back while the witness is out of reach" >&2
