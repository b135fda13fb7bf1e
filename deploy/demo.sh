#!/usr/bin/env bash
# `make demo`: start the local network (or find it running) and trade through the `dlt` CLI:
# market rules, money, a request-and-pay, bids and offers, market clearing with delivery
# versus payment, then every party's balance: what it holds, and what it bought and sold.
# Everything it prints fits in 120 columns. The network stays up.
set -euo pipefail
cd "$(dirname "$0")/.."
DLT="${DLT:-.venv/bin/dlt}"
export DLT_HOME="${DLT_HOME:-$PWD/localnet}"

OPERATOR="O=Market Operator, L=London, C=GB"
BANK="O=Community Bank, L=London, C=GB"
P1="O=Producer 1, L=Leeds, C=GB"
P2="O=Producer 2, L=Leeds, C=GB"
C1="O=Consumer 1, L=York, C=GB"
C2="O=Consumer 2, L=York, C=GB"

step() { printf '\n== %s\n' "$*"; }
# Print a command as it could be typed: values with spaces quoted, continued with a backslash
# before a line would pass 100 columns.
show() {
    local line='$' word
    for word in "$@"; do
        [[ "$word" == *" "* ]] && word="${word%%=*}=\"${word#*=}\""
        if (( ${#line} + ${#word} > 98 )); then
            printf '%s \\\n' "$line"
            line='   '
        fi
        line+=" $word"
    done
    printf '%s\n' "$line"
}
run() {
    local node="$1"; shift
    show dlt flow start --node "$node" "$@"
    "$DLT" flow start --node "$node" "$@" >/dev/null
}

step "Starting the local network in $DLT_HOME"
"$DLT" localnet up

# Each run trades in a delivery window of its own: the next quarter hour from now, plus one
# hour per earlier run, so running the demo again never collides with its own orders.
RUNS_FILE="$DLT_HOME/demo-runs"
RUN=$(( $(cat "$RUNS_FILE" 2>/dev/null || echo 0) + 1 ))
echo "$RUN" > "$RUNS_FILE"
WINDOW=$(.venv/bin/python - "$RUN" <<'PY'
import sys
from datetime import UTC, datetime, timedelta
now = datetime.now(UTC).replace(second=0, microsecond=0)
start = now + timedelta(minutes=15 - now.minute % 15) + timedelta(hours=int(sys.argv[1]) - 1)
print(start.isoformat())
PY
)

step "The market operator publishes the market rules to every party"
run market-operator energy.PublishCommunityRules payment_issuer="$BANK" require_meter_readings=false

step "The bank issues money to the consumers (cents)"
run community-bank energy.IssuePayment owner="$C1" amount=100000 currency=EUR
run community-bank energy.IssuePayment owner="$C2" amount=100000 currency=EUR

step "Consumer 1 requests 2 kWh of solar from Producer 1 and pays in the same transaction"
run consumer-1 energy.RequestAndPay producer="$P1" quantity_wh=2000 energy_type=solar \
    window_start="$WINDOW" price_per_kwh=15

step "Producers issue their surplus for window $WINDOW and offer it"
run producer-1 energy.RequestEnergy quantity_wh=3000 energy_type=solar window_start="$WINDOW" price_per_kwh=8
run producer-2 energy.RequestEnergy quantity_wh=2000 energy_type=solar window_start="$WINDOW" price_per_kwh=11
run producer-1 energy.PlaceOffer window_start="$WINDOW" max_quantity_wh=3000 limit_price_per_kwh=8 energy_type=solar
run producer-2 energy.PlaceOffer window_start="$WINDOW" max_quantity_wh=2000 limit_price_per_kwh=11 energy_type=solar

step "Consumers bid"
run consumer-1 energy.PlaceBid window_start="$WINDOW" max_quantity_wh=2500 limit_price_per_kwh=20 energy_type=solar
run consumer-2 energy.PlaceBid window_start="$WINDOW" max_quantity_wh=1500 limit_price_per_kwh=12 energy_type=solar

step "The market operator clears the window and settles every match by delivery versus payment"
show dlt flow start --node market-operator energy.ClearMarket window_start="$WINDOW"
"$DLT" flow start --node market-operator energy.ClearMarket window_start="$WINDOW"

step "What every party holds, and what it bought and sold"
for node in producer-1 producer-2 consumer-1 consumer-2 market-operator community-bank; do
    printf '\n'
    show dlt vault balance --node "$node"
    "$DLT" vault balance --node "$node"
done

EXPLORER=$( ("$DLT" localnet status --json || true) | .venv/bin/python -c \
    'import json, sys; print(next((r["address"] for r in json.load(sys.stdin) if r["component"] == "explorer"), ""))')
printf '\nThe network is still running (%s).\n' "$DLT_HOME"
if [ -n "$EXPLORER" ]; then
    printf 'Explore it in a browser: %s
' "$EXPLORER"
    printf '  user operator; password in %s/nodes/market-operator-*/rpc.json
' "$DLT_HOME"
fi
printf 'Try: dlt vault query --node consumer-1 --type energy.EnergyState   (--json for every field)
'
printf 'Stop it with: dlt localnet down --home %s   (or: make demo-down)\n' "$DLT_HOME"
