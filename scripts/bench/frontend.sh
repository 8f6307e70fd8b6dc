#!/usr/bin/env bash
# `make bench`, the front end: what the first load of `/` costs, on a release
# build, on loopback only, bounded in requests and seconds. Rewrites the part
# of docs/performance.md between `<!-- frontend:begin -->` and
# `<!-- frontend:end -->` (the rest of the file is left as it is).
#
#   1. first-load bytes of `/` (every file a cold load fetches, raw, gzip, brotli),
#      beside a minimal Leptos page built the same way (scripts/bench/minimal-leptos);
#   2. hydration: navigation start → window.__hydrated, median of 9 cold loads in
#      Chromium, for both, and their ratio;
#   3. time to a working button over an emulated mobile link (1.6 Mbps down, 150 ms
#      RTT), median of 5 (target ≤ 2 s);
#   4. keep-alive latency (one connection) of `/`, an asset and a server function;
#   5. requests/s and p50/p99 at 64 connections: SSR `/`, `/accounts` with 10 linked
#      accounts, a static asset;
#   6. an account with 1,000 and 10,000 stored transactions: `load_transactions` p50
#      and the browser's time to render its page.
#
# Ports: BENCH_PORT (the app, default 3700) and BENCH_PORT+1 (the minimal page).
# BENCH_SECONDS (default 5, at most 60) bounds each load run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=../env.sh
source scripts/env.sh

PORT="${BENCH_PORT:-3700}"
MIN_PORT=$((PORT + 1))
SECONDS_PER_RUN="${BENCH_SECONDS:-5}"
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65534 ] || { echo "bad BENCH_PORT: $PORT" >&2; exit 2; }
[[ "$SECONDS_PER_RUN" =~ ^[0-9]+$ ]] && [ "$SECONDS_PER_RUN" -ge 1 ] && [ "$SECONDS_PER_RUN" -le 60 ] \
  || { echo "BENCH_SECONDS must be 1 to 60" >&2; exit 2; }
APP="http://127.0.0.1:$PORT"
MINIMAL="http://127.0.0.1:$MIN_PORT"
MINIMAL_DIR="scripts/bench/minimal-leptos"
# The app's own target dir: the minimal page's build reuses what it can of the
# app's (proc macros, crates with the same features) under its own names.
MINIMAL_TARGET="$ROOT/target"
# Its own site root: a bench never replaces the site `make build` made for the tests.
SITE=target/bench-site

say() { printf '\033[1;34m[bench:frontend]\033[0m %s\n' "$*"; }
OUT="$(mktemp -d)"
PIDS=""
cleanup() {
  for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$OUT"
}
trap cleanup EXIT

say "release builds (the app, the load generator, the seeder, the minimal page)"
LEPTOS_SITE_ROOT="$SITE" scripts/release.sh
cargo build --release -p server --example load --example bench_seed
# The minimal page's wasm on the same toolchain and flags as the app's.
# shellcheck source=../release-toolchain.sh
source scripts/release-toolchain.sh
release_wasm_env
( cd "$MINIMAL_DIR" && env LEPTOS_OUTPUT_NAME=minimal CARGO_TARGET_DIR="$MINIMAL_TARGET" "${RELEASE_WASM_ENV[@]}" \
    cargo leptos build --release -P --frontend-only \
  && env LEPTOS_OUTPUT_NAME=minimal CARGO_TARGET_DIR="$MINIMAL_TARGET" cargo leptos build --release -P --server-only )
LOAD=target/release/examples/load
SEED=target/release/examples/bench_seed

wait_for() {  # url: polls for up to 60 s
  for _ in $(seq 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "no answer from $1" >&2; exit 1
}

DB="sqlite://$OUT/bench.db"
# Sandbox mode; the limits are raised so the figures measure the server, not the rate limiter.
env STRIPE_SECRET_KEY= STRIPE_PUBLISHABLE_KEY= STRIPE_API_BASE= STRIPE_JS_URL= DATABASE_URL="$DB" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT="$SITE" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=fc_app \
  RATE_LIMIT_IP_PER_SECOND=1000000 RATE_LIMIT_IP_BURST=1000000 RATE_LIMIT_USER_PER_SECOND=1000000 \
  RATE_LIMIT_USER_BURST=1000000 RATE_LIMIT_NEW_SESSIONS_PER_HOUR=1000000 RATE_LIMIT_LINKS_PER_HOUR=1000000 \
  SANDBOX_REFRESH_DELAY_MS=100 RUST_LOG=warn \
  target/release/server > "$OUT/app.log" 2>&1 &
PIDS="$PIDS $!"
env LEPTOS_SITE_ADDR="127.0.0.1:$MIN_PORT" LEPTOS_SITE_ROOT="$MINIMAL_DIR/target/site" LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_OUTPUT_NAME=minimal "$MINIMAL_TARGET/release/minimal_leptos" > "$OUT/minimal.log" 2>&1 &
PIDS="$PIDS $!"
wait_for "$APP/healthz"
wait_for "$MINIMAL/"

json() { node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(process.argv[1].split(".").reduce((o, k) => o?.[k], v) ?? "")' "$1"; }
FRONT="node scripts/bench/frontend.mjs"

say "1. first-load bytes"
$FRONT bytes --url "$APP/" > "$OUT/bytes_app.json"
$FRONT bytes --url "$MINIMAL/" > "$OUT/bytes_minimal.json"

say "2. hydration, 9 cold loads each"
$FRONT hydrate --url "$APP/" --runs 9 > "$OUT/hydrate_app.json"
$FRONT hydrate --url "$MINIMAL/" --runs 9 > "$OUT/hydrate_minimal.json"

say "3. a working button over an emulated mobile link, 5 cold loads each"
$FRONT hydrate --url "$APP/" --runs 5 --mobile > "$OUT/mobile_app.json"
$FRONT hydrate --url "$MINIMAL/" --runs 5 --mobile > "$OUT/mobile_minimal.json"

say "a browser with 10 linked accounts"
$FRONT link --app "$APP" --n 10 > "$OUT/link.json"
COOKIE="$(json cookie < "$OUT/link.json")"
ACCOUNT="$(json accounts.0 < "$OUT/link.json")"
[ -n "$COOKIE" ] && [ -n "$ACCOUNT" ] || { echo "could not link accounts" >&2; exit 1; }
CSS="$(node -e 'const f = JSON.parse(require("fs").readFileSync(0, "utf8")).files; console.log(f.find((x) => x.path.endsWith(".css")).path)' < "$OUT/bytes_app.json")"
BR="Accept-Encoding: br"

say "4. keep-alive latency, one connection"
load1() { "$LOAD" --connections 1 --seconds "$SECONDS_PER_RUN" --max-requests 20000 "$@"; }
load1 --url "$APP/" --header "Cookie: $COOKIE" --header "$BR" > "$OUT/ka_page.json"
load1 --url "$APP$CSS" --header "$BR" > "$OUT/ka_asset.json"
load1 --url "$APP/api/client_config" --method POST --header "Cookie: $COOKIE" --header "Sec-Fetch-Site: same-origin" \
  --header "$BR" > "$OUT/ka_api.json"
load1 --url "$MINIMAL/" --header "$BR" > "$OUT/ka_minimal.json"

say "5. throughput at 64 connections"
load64() { "$LOAD" --connections 64 --seconds "$SECONDS_PER_RUN" --max-requests 2000000 "$@"; }
load64 --url "$APP/" --header "Cookie: $COOKIE" --header "$BR" > "$OUT/rps_page.json"
load64 --url "$APP/accounts" --header "Cookie: $COOKIE" --header "$BR" > "$OUT/rps_accounts.json"
load64 --url "$APP$CSS" --header "$BR" > "$OUT/rps_asset.json"
load64 --url "$MINIMAL/" --header "$BR" > "$OUT/rps_minimal.json"

say "6. an account with 1,000 and 10,000 transactions"
# Its page once, so its view (and the sandbox's own transactions) are stored.
curl -fsS -o /dev/null -H "Cookie: $COOKIE" "$APP/accounts/$ACCOUNT"
for n in 1000 10000; do
  "$SEED" --database-url "$DB" --account "$ACCOUNT" --total "$n" > "$OUT/seed_$n.json"
  load1 --url "$APP/api/load_transactions" --method POST --header "Cookie: $COOKIE" \
    --header "Sec-Fetch-Site: same-origin" --header "Content-Type: application/x-www-form-urlencoded" \
    --body "id=$ACCOUNT&page=1" > "$OUT/txn_api_$n.json"
  $FRONT render --url "$APP/accounts/$ACCOUNT" --cookie "$COOKIE" --selector '[data-testid="txn-table"]' --runs 5 \
    > "$OUT/txn_render_$n.json"
done

say "writing docs/performance.md (the frontend section)"
mkdir -p docs
node scripts/bench/frontend-report.mjs --dir "$OUT" --seconds "$SECONDS_PER_RUN" --file docs/performance.md \
  --pkg "$SITE/pkg" --wasm-toolchain "$RELEASE_WASM_TOOLCHAIN"
sed -n '/<!-- frontend:begin -->/,/<!-- frontend:end -->/p' docs/performance.md
