#!/usr/bin/env bash
# `make soak`: a bounded load and fault run against a release build, on
# loopback only, that rewrites docs/reliability.md. Not part of `make test`.
#
# The app runs in Stripe mode against a standalone sandbox (as it would run
# against Stripe), so killing the app does not take "Stripe" with it:
#   1. throughput: requests/s, p50/p99 and errors at 64 connections on `/` and
#      on `POST /api/linked_accounts`;
#   2. the webhook signature flood: a 64 KiB body with 90,000 `v1=` entries,
#      alone, and four in parallel beside `GET /`;
#   3. kill -9 while browsers link accounts, then a restart: every account the
#      app confirmed before the kill is still there;
#   4. SIGTERM with 50 open `/events` streams: how long until the process exits;
#   5. the sandbox flood: 4,000 keys × 10 customers with 5 KB descriptions, RSS.
#
# Ports: SOAK_PORT (app, default 3600), SOAK_SANDBOX_PORT (default 3601).
# SOAK_SECONDS (default 10) bounds each load run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
source scripts/env.sh

PORT="${SOAK_PORT:-3600}"
SB_PORT="${SOAK_SANDBOX_PORT:-3601}"
RUN_SECONDS="${SOAK_SECONDS:-10}"
for p in "$PORT" "$SB_PORT"; do
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1024 ] && [ "$p" -le 65535 ] || { echo "bad port: $p" >&2; exit 2; }
done
[[ "$RUN_SECONDS" =~ ^[0-9]+$ ]] && [ "$RUN_SECONDS" -ge 1 ] && [ "$RUN_SECONDS" -le 60 ] \
  || { echo "SOAK_SECONDS must be 1 to 60" >&2; exit 2; }
APP="http://127.0.0.1:$PORT"
SANDBOX="http://127.0.0.1:$SB_PORT"
KEY="sk_test_soak_$(date +%s)"
PK="pk_test_soak"

say() { printf '\033[1;34m[soak]\033[0m %s\n' "$*"; }
OUT="$(mktemp -d)"
APP_PID=""
SB_PID=""
cleanup() {
  for pid in $APP_PID $SB_PID $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$OUT"
}
trap cleanup EXIT

say "release build"
cargo leptos build --release
cargo build --release -p server --example load --example sandbox_flood
LOAD=target/release/examples/load
SERVER=target/release/server

wait_for() {  # url: polls for up to 60 s
  for _ in $(seq 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "no answer from $1" >&2; exit 1
}
ms_now() { date +%s%3N; }

start_sandbox() {
  # In memory: the figures are the sandbox's serving and memory, not its state file's writes.
  RUST_LOG=warn SANDBOX_DATABASE_URL=memory "$SERVER" sandbox --addr "127.0.0.1:$SB_PORT" > "$OUT/sandbox.log" 2>&1 &
  SB_PID=$!
  wait_for "$SANDBOX/js/stripe.js"
}

# The limits are raised so the figures measure the server, not the rate limiter
# (app_edge.rs tests the limits themselves).
start_app() {
  env STRIPE_SECRET_KEY="$KEY" STRIPE_PUBLISHABLE_KEY="$PK" STRIPE_API_BASE="$SANDBOX" STRIPE_JS_URL="$SANDBOX/js/stripe.js" \
    STRIPE_WEBHOOK_SECRET="$WHSEC" DATABASE_URL="sqlite://$OUT/soak.db" \
    LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=fc_app \
    RATE_LIMIT_IP_PER_SECOND=1000000 RATE_LIMIT_IP_BURST=1000000 RATE_LIMIT_USER_PER_SECOND=1000000 \
    RATE_LIMIT_USER_BURST=1000000 RATE_LIMIT_NEW_SESSIONS_PER_HOUR=1000000 RATE_LIMIT_LINKS_PER_HOUR=1000000 \
    EVENTS_MAX_TOTAL=10000 RUST_LOG=warn \
    "$SERVER" >> "$OUT/app.log" 2>&1 &
  APP_PID=$!
  wait_for "$APP/healthz"
}

json() { node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(process.argv[1].split(".").reduce((o, k) => o?.[k], v) ?? "")' "$1"; }

say "standalone sandbox on $SANDBOX; the app in Stripe mode on $APP"
start_sandbox
WHSEC="$(curl -fsS -u "$KEY:" "$SANDBOX/v1/webhook_endpoints" -d "url=$APP/webhooks/stripe" -d 'enabled_events[]=*' | json secret)"
start_app

say "one browser with a linked account"
node scripts/soak/links.mjs --app "$APP" --sandbox "$SANDBOX" --pk "$PK" --workers 1 --max 1 --seconds 30 --out "$OUT/seed.tsv" > /dev/null
COOKIE="$(cut -f1 "$OUT/seed.tsv" | head -1)"
[ -n "$COOKIE" ] || { echo "could not link an account" >&2; exit 1; }

say "1. throughput at 64 connections, ${RUN_SECONDS}s each"
"$LOAD" --url "$APP/" --connections 64 --seconds "$RUN_SECONDS" --max-requests 2000000 \
  --header "Cookie: $COOKIE" > "$OUT/page.json"
"$LOAD" --url "$APP/api/linked_accounts" --method POST --connections 64 --seconds "$RUN_SECONDS" --max-requests 2000000 \
  --header "Cookie: $COOKIE" --header "Sec-Fetch-Site: same-origin" > "$OUT/api.json"

say "2. the webhook signature flood"
node scripts/soak/webhook_flood.mjs --app "$APP" --n 20 > "$OUT/flood.json"
"$LOAD" --url "$APP/" --connections 8 --seconds 5 --header "Cookie: $COOKIE" > "$OUT/page_quiet.json"
node scripts/soak/webhook_flood.mjs --app "$APP" --parallel 4 --seconds 7 > "$OUT/flood_parallel.json" &
FLOOD_PID=$!
sleep 1
"$LOAD" --url "$APP/" --connections 8 --seconds 5 --header "Cookie: $COOKIE" > "$OUT/page_flooded.json"
wait "$FLOOD_PID"

say "3. kill -9 while 8 browsers link accounts, then a restart"
node scripts/soak/links.mjs --app "$APP" --sandbox "$SANDBOX" --pk "$PK" --workers 8 --seconds 12 --max 5000 \
  --out "$OUT/links.tsv" > "$OUT/links.json" &
LINKS_PID=$!
"$LOAD" --url "$APP/" --connections 16 --seconds 12 --header "Cookie: $COOKIE" > "$OUT/page_during_kill.json" &
BG_LOAD=$!
sleep 5
kill -9 "$APP_PID"
wait "$APP_PID" 2>/dev/null || true
KILLED_WITH="$(wc -l < "$OUT/links.tsv" | tr -d ' ')"
wait "$LINKS_PID" "$BG_LOAD" || true
start_app
node scripts/soak/verify.mjs --app "$APP" --in "$OUT/links.tsv" > "$OUT/verify.json"

say "4. SIGTERM with 50 open event streams"
rm -f "$OUT/ready"
node scripts/soak/streams.mjs --app "$APP" --n 50 --ready "$OUT/ready" > "$OUT/streams.json" &
STREAMS_PID=$!
for _ in $(seq 300); do [ -f "$OUT/ready" ] && break; sleep 0.1; done
[ -f "$OUT/ready" ] || { echo "streams did not open" >&2; exit 1; }
T0="$(ms_now)"
kill -TERM "$APP_PID"
wait "$APP_PID" || true
T1="$(ms_now)"
APP_PID=""
wait "$STREAMS_PID" || true
SIGTERM_MS=$((T1 - T0))

say "5. the sandbox flood: 4,000 keys × 10 customers with 5 KB descriptions"
kill "$SB_PID" && wait "$SB_PID" 2>/dev/null || true
start_sandbox
target/release/examples/sandbox_flood --base "$SANDBOX" --pid "$SB_PID" > "$OUT/sandbox_flood.json"

say "writing docs/reliability.md"
node scripts/soak/report.mjs --dir "$OUT" --sigterm-ms "$SIGTERM_MS" --killed-with "$KILLED_WITH" \
  --seconds "$RUN_SECONDS" > docs/reliability.md
cat docs/reliability.md
