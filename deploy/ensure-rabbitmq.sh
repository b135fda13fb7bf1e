#!/usr/bin/env bash
# Make sure the RabbitMQ server programs exist, so tests and the local network can start private
# brokers (deploy/rabbitmq/). Installs the Debian/Ubuntu package `rabbitmq-server` with apt-get
# only when its scripts are found neither on PATH nor under /usr/lib/rabbitmq/bin; otherwise it
# changes nothing. It never starts, stops or configures any broker.
#
# Note: on Debian the package's post-install step enables and starts the system service
# (rabbitmq-server on 127.0.0.1:5672 or 0.0.0.0:5672); private brokers do not use it.
set -euo pipefail

find_rabbitmq() {
    local candidate
    for candidate in "$(command -v rabbitmq-server 2>/dev/null || true)" \
        /usr/lib/rabbitmq/bin/rabbitmq-server /usr/sbin/rabbitmq-server \
        /usr/local/sbin/rabbitmq-server; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

check_plugin() {
    # RabbitMQ must ship the EXTERNAL (certificate) login plugin.
    local found
    found=$(find /usr/lib/rabbitmq /usr/local/lib/rabbitmq /opt/homebrew/opt/rabbitmq \
        -maxdepth 4 -type d -name 'rabbitmq_auth_mechanism_ssl-*' 2>/dev/null | head -n 1 || true)
    if [ -z "$found" ]; then
        echo "ensure-rabbitmq: warning: plugin rabbitmq_auth_mechanism_ssl not found under the" \
            "usual plugin directories; private brokers need it." >&2
    fi
}

if found=$(find_rabbitmq); then
    echo "ensure-rabbitmq: RabbitMQ is installed ($found); nothing to do."
    check_plugin
    exit 0
fi

echo "ensure-rabbitmq: rabbitmq-server not found on PATH or under /usr/lib/rabbitmq/bin."
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-rabbitmq: installing RabbitMQ needs root; run: sudo $0" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-rabbitmq: apt-get is not available; install RabbitMQ 3.10 or newer" \
        "(rabbitmq-server, rabbitmqctl, epmd) with this system's package manager." >&2
    exit 1
fi

echo "ensure-rabbitmq: running apt-get update"
DEBIAN_FRONTEND=noninteractive apt-get update
echo "ensure-rabbitmq: installing package rabbitmq-server"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server

if found=$(find_rabbitmq); then
    echo "ensure-rabbitmq: RabbitMQ installed ($found)."
    check_plugin
else
    echo "ensure-rabbitmq: apt-get finished but rabbitmq-server is still missing;" \
        "check the output above." >&2
    exit 1
fi
