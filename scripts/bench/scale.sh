#!/usr/bin/env bash
# `make bench`, the scale part: requests/s and p50/p99 at 64 connections on
# `GET /accounts` and `POST /api/linked_accounts`, with 1,000 linked accounts
# spread over 100 users, on SQLite (one instance: SQLite is one process per
# file) and on PostgreSQL (one instance, then two on one database). Rewrites
# its section of docs/performance.md (between <!-- scale:begin --> and
# <!-- scale:end -->). Release build, loopback only, bounded; not part of
# `make test`.
#
# The app runs in Stripe mode against a standalone sandbox (as against
# Stripe), with rate limits raised so the figures measure the server. The
# load comes from one seeded browser (10 accounts); the others make the
# tables the queries run on 1,000 accounts deep. Two instances get 32
# connections each, at once, from two load generators.
#
# BENCH_PROFILE=debug runs the same steps on a debug build (a quick check of
# this script; its figures are labelled so and are not the ones to publish).
# Ports: BENCH_PORT (first instance, default 3300; the second is +1),
# BENCH_SANDBOX_PORT (default 12312). BENCH_SECONDS (default 10) per run.
# PostgreSQL: TEST_DATABASE_URL, or one answering on 127.0.0.1:5432
# (scripts/test-db.sh); each backend run uses a schema of its own, dropped after.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=../env.sh
source scripts/env.sh
# shellcheck source=../test-db.sh
source scripts/test-db.sh

PORT="${BENCH_PORT:-3300}"
PORT_B=$((PORT + 1))
SB_PORT="${BENCH_SANDBOX_PORT:-12312}"
RUN_SECONDS="${BENCH_SECONDS:-10}"
for p in "$PORT" "$SB_PORT"; do
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1024 ] && [ "$p" -le 65534 ] || { echo "bad port: $p" >&2; exit 2; }
done
[[ "$RUN_SECONDS" =~ ^[0-9]+$ ]] && [ "$RUN_SECONDS" -ge 1 ] && [ "$RUN_SECONDS" -le 60 ] \
  || { echo "BENCH_SECONDS must be 1 to 60" >&2; exit 2; }
SANDBOX="http://127.0.0.1:$SB_PORT"
PK="pk_test_bench"
USERS=100
PER_USER=10

say() { printf '\033[1;34m[bench:scale]\033[0m %s\n' "$*"; }
OUT="$(mktemp -d)"
PIDS=""
SCHEMA=""
cleanup() {
  for pid in $PIDS $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$SCHEMA" ]; then psql -q "$TEST_DATABASE_URL" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true; fi
  rm -rf "$OUT"
}
trap cleanup EXIT

PROFILE="${BENCH_PROFILE:-release}"
case "$PROFILE" in
  release) say "release build"; cargo leptos build --release; cargo build --release -p server --example load ;;
  debug) say "debug build (BENCH_PROFILE=debug: a check of the script, not figures to publish)"
         cargo leptos build; cargo build -p server --example load ;;
  *) echo "BENCH_PROFILE must be release or debug" >&2; exit 2 ;;
esac
LOAD="target/$PROFILE/examples/load"
SERVER="target/$PROFILE/server"

wait_for() {  # url: polls for up to 60 s
  for _ in $(seq 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "no answer from $1" >&2; exit 1
}

RUST_LOG=warn SANDBOX_MAX_OBJECTS=5000 "$SERVER" sandbox --addr "127.0.0.1:$SB_PORT" > "$OUT/sandbox.log" 2>&1 &
PIDS="$PIDS $!"
wait_for "$SANDBOX/js/stripe.js"

start_app() {  # port database-url key
  env STRIPE_SECRET_KEY="$3" STRIPE_PUBLISHABLE_KEY="$PK" STRIPE_API_BASE="$SANDBOX" STRIPE_JS_URL="$SANDBOX/js/stripe.js" \
    DATABASE_URL="$2" DATABASE_MAX_CONNECTIONS=20 \
    LEPTOS_SITE_ADDR="127.0.0.1:$1" LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=fc_app \
    RATE_LIMIT_IP_PER_SECOND=1000000 RATE_LIMIT_IP_BURST=1000000 RATE_LIMIT_USER_PER_SECOND=1000000 \
    RATE_LIMIT_USER_BURST=1000000 RATE_LIMIT_NEW_SESSIONS_PER_HOUR=1000000 RATE_LIMIT_LINKS_PER_HOUR=1000000 \
    RUST_LOG=warn "$SERVER" >> "$OUT/app-$1.log" 2>&1 &
  PIDS="$PIDS $!"
  LAST_PID=$!
  wait_for "http://127.0.0.1:$1/readyz"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

load() {  # out-file url connections [POST]
  local method=()
  [ "${4:-}" = POST ] && method=(--method POST --header "Sec-Fetch-Site: same-origin")
  "$LOAD" --url "$2" --connections "$3" --seconds "$RUN_SECONDS" --max-requests 5000000 \
    --header "Cookie: $COOKIE" "${method[@]}" > "$1"
}

measure() {  # label instances...: one instance gets 64 connections; two get 32 each at once
  local label="$1"; shift
  local conns=$((64 / $#))
  for what in page api; do
    local path="/accounts" post=""
    [ "$what" = api ] && path="/api/linked_accounts" && post=POST
    local i=0 pids=()
    for port in "$@"; do
      load "$OUT/$label-$what-$i.json" "http://127.0.0.1:$port$path" "$conns" "$post" &
      pids+=($!)
      i=$((i + 1))
    done
    wait "${pids[@]}"
  done
}

run_backend() {  # name database-url
  local name="$1" url="$2" key="sk_test_bench_${1}_$(date +%s)"
  say "$name: one instance on 127.0.0.1:$PORT; seeding $USERS users × $PER_USER accounts"
  start_app "$PORT" "$url" "$key"
  local a="$LAST_PID"
  node scripts/bench/seed.mjs --app "http://127.0.0.1:$PORT" --sandbox "$SANDBOX" --pk "$PK" \
    --users "$USERS" --accounts "$PER_USER" --workers 8 --seconds 600 --out "$OUT/$name-cookies.txt" > "$OUT/$name-seed.json"
  cat "$OUT/$name-seed.json"
  COOKIE="$(head -1 "$OUT/$name-cookies.txt")"
  say "$name: one instance, 64 connections, ${RUN_SECONDS}s per route"
  measure "$name-1" "$PORT"
  if [ "$name" = postgres ]; then
    say "$name: two instances on one database, 32 connections each"
    start_app "$PORT_B" "$url" "$key"
    local b="$LAST_PID"
    measure "$name-2" "$PORT" "$PORT_B"
    stop "$b"
  fi
  stop "$a"
}

run_backend sqlite "sqlite://$OUT/bench.db"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  SCHEMA="fc_test_$(date +%s)_bench$$"
  psql -q -v ON_ERROR_STOP=1 "$TEST_DATABASE_URL" -c "CREATE SCHEMA $SCHEMA"
  sep='?'; [[ "$TEST_DATABASE_URL" == *\?* ]] && sep='&'
  run_backend postgres "${TEST_DATABASE_URL}${sep}options=-c%20search_path%3D$SCHEMA"
else
  say "no PostgreSQL: its rows say so"
fi

say "writing the scale section of docs/performance.md"
node scripts/bench/scale-report.mjs --dir "$OUT" --seconds "$RUN_SECONDS" --users "$USERS" --accounts "$PER_USER" \
  --profile "$PROFILE" --doc docs/performance.md
sed -n '/<!-- scale:begin -->/,/<!-- scale:end -->/p' docs/performance.md
