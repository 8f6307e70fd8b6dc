# Two commands do everything: `make run` and `make test`. Both install what is
# missing first (scripts/bootstrap.sh: idempotent, prints what it does).
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: run test setup setup-rust setup-e2e setup-release build release test-rust test-e2e sandbox fuzz soak bench fmt clippy clean

## run: start the app on http://127.0.0.1:3000 with live reload (sandbox unless keys are set)
run: setup-rust
	$(ENV) cargo leptos watch

## test: all Rust tests, then the Playwright suite in Chromium
test: setup
	$(MAKE) test-rust
	$(MAKE) build
	$(MAKE) test-e2e

setup: setup-rust setup-e2e
setup-rust:
	scripts/bootstrap.sh rust
setup-e2e:
	scripts/bootstrap.sh e2e
setup-release:
	scripts/bootstrap.sh release

build:
	$(ENV) cargo leptos build --split --features split

## release: the production build (scripts/release.sh): pages split into wasm
## chunks loaded on demand, the wasm on a pinned nightly with -Zbuild-std,
## wasm-opt, content-hashed file names, every static file precompressed
## (.br, .gz). Serve target/release/server (with target/release/hash.txt
## beside it) and target/site.
release: setup-release
	scripts/release.sh

## test-rust: every Rust test, on SQLite and (when one answers) PostgreSQL: see scripts/test-db.sh
test-rust:
	$(ENV) source scripts/test-db.sh && cargo test --workspace

## test-e2e: the Playwright suite; with PostgreSQL (scripts/test-db.sh) also the two-instance spec
test-e2e:
	$(ENV) source scripts/test-db.sh && cd end2end && npx playwright test

## sandbox: only the Stripe sandbox, on http://127.0.0.1:12111
sandbox: setup-rust
	$(ENV) cargo run -p server -- sandbox --addr 127.0.0.1:12111

## soak: bounded load and fault run on a release build (loopback only); rewrites docs/reliability.md
soak: setup
	scripts/soak.sh

## bench: every benchmark, scripts/bench/*.sh in turn (release builds, loopback only);
## each rewrites its own section of docs/performance.md. Not part of `make test`.
bench: setup setup-release
	@set -e; for script in scripts/bench/*.sh; do echo "== $$script"; "$$script"; done

## fuzz: the property tests of every untrusted-input parser, 10^6 cases each (release build)
fuzz: setup-rust
	$(ENV) PROPTEST_CASES=1000000 cargo test --release -p server --test parsers
	$(ENV) PROPTEST_CASES=1000000 cargo test --release -p app --test input_parsing

# fmt and clippy add their rustup component to the project's toolchain when it lacks it.
fmt: setup-rust
	$(ENV) { rustup component add rustfmt >/dev/null 2>&1 || true; } && cargo fmt --all
clippy: setup-rust
	$(ENV) { rustup component add clippy >/dev/null 2>&1 || true; } && cargo clippy --workspace --all-targets && cargo clippy -p app --features hydrate --target wasm32-unknown-unknown
clean:
	rm -rf target/site target/debug target/front end2end/test-results
