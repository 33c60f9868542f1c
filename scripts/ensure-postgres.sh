#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests, installing and
# starting Debian's package where none does. A server that already answers is left alone.
set -euo pipefail

answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

answers && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "==> Installing PostgreSQL"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql
fi

version=$(ls /etc/postgresql | sort -n | tail -n 1)
echo "==> Starting PostgreSQL $version"
$sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
  || $sudo pg_ctlcluster "$version" main start
for _ in $(seq 1 30); do answers && break; sleep 1; done
answers || { echo "PostgreSQL did not start; see /var/log/postgresql/" >&2; exit 1; }

# The tests connect as postgres/postgres over TCP; a fresh Debian install has no password set.
sql="ALTER USER postgres PASSWORD 'postgres'"
if [ -n "$sudo" ]; then sudo -u postgres psql -q -c "$sql"; else su postgres -c "psql -q -c \"$sql\""; fi
