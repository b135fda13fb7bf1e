#!/usr/bin/env bash
# Make sure Debian's Chromium is installed at /usr/bin/chromium, for the explorer's browser
# tests (tests/e2e/test_localnet_explorer.py drives it headless through Playwright; Playwright's
# own browser downloads are never used). Installs the package `chromium` with apt-get only when
# it is missing; otherwise it changes nothing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "ensure-chromium: Chromium is installed (/usr/bin/chromium); nothing to do."
    exit 0
fi
echo "ensure-chromium: /usr/bin/chromium not found."
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-chromium: installing Chromium needs root; run: sudo $0" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: apt-get is not available; install Chromium so that" \
        "/usr/bin/chromium exists, with this system's package manager." >&2
    exit 1
fi
echo "ensure-chromium: running apt-get update"
DEBIAN_FRONTEND=noninteractive apt-get update
echo "ensure-chromium: installing package chromium"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
if [ ! -x /usr/bin/chromium ]; then
    echo "ensure-chromium: apt-get finished but /usr/bin/chromium is still missing;" \
        "check the output above." >&2
    exit 1
fi
echo "ensure-chromium: Chromium installed ($(/usr/bin/chromium --version 2>/dev/null || echo '?'))."
