# Two commands do everything: `make run` and `make test`. Both install what is
# missing first (scripts/bootstrap.sh: idempotent, prints what it does).
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: run test setup setup-rust setup-e2e build test-rust test-e2e sandbox fuzz fmt clippy clean

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

build:
	$(ENV) cargo leptos build

## test-rust: every Rust test, on SQLite and (when one answers) PostgreSQL: see scripts/test-db.sh
test-rust:
	$(ENV) source scripts/test-db.sh && cargo test --workspace

test-e2e:
	$(ENV) cd end2end && npx playwright test

## sandbox: only the Stripe sandbox, on http://127.0.0.1:12111
sandbox: setup-rust
	$(ENV) cargo run -p server -- sandbox --addr 127.0.0.1:12111

## fuzz: the property tests of every untrusted-input parser, 10^6 cases each (release build)
fuzz: setup-rust
	$(ENV) PROPTEST_CASES=1000000 cargo test --release -p server --test parsers
	$(ENV) PROPTEST_CASES=1000000 cargo test --release -p app --test input_parsing

fmt:
	$(ENV) cargo fmt --all
clippy:
	$(ENV) cargo clippy --workspace --all-targets && cargo clippy -p app --features hydrate --target wasm32-unknown-unknown
clean:
	rm -rf target/site target/debug target/front end2end/test-results
