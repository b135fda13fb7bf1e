#!/usr/bin/env bash
# Make sure the PostgreSQL server programs exist, so tests can start private clusters.
# Installs the Debian/Ubuntu package `postgresql` with apt-get only when `initdb` is found
# neither on PATH nor under /usr/lib/postgresql/*/bin; otherwise it changes nothing.
set -euo pipefail

find_initdb() {
    if command -v initdb >/dev/null 2>&1; then
        command -v initdb
        return 0
    fi
    local candidate
    for candidate in /usr/lib/postgresql/*/bin/initdb; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if found=$(find_initdb); then
    echo "ensure-postgres: PostgreSQL is installed ($found); nothing to do."
    exit 0
fi

echo "ensure-postgres: initdb not found on PATH or under /usr/lib/postgresql/*/bin."
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-postgres: installing PostgreSQL needs root; run: sudo $0" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: apt-get is not available; install the PostgreSQL server" \
        "(initdb, pg_ctl) with this system's package manager." >&2
    exit 1
fi

echo "ensure-postgres: running apt-get update"
DEBIAN_FRONTEND=noninteractive apt-get update
echo "ensure-postgres: installing package postgresql"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql

if found=$(find_initdb); then
    echo "ensure-postgres: PostgreSQL installed ($found)."
else
    echo "ensure-postgres: apt-get finished but initdb is still missing; check the output above." >&2
    exit 1
fi
