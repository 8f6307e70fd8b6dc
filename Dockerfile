# syntax=docker/dockerfile:1
# Bank Link as a container: a release build, then a small Debian runtime with
# only the server binary and the site it serves. Not built by CI (these
# machines have no container daemon); it runs exactly what the tested scripts
# run: `scripts/bootstrap.sh release`, then `scripts/release.sh` (what
# `make release` runs). See README, "Deploying".

FROM rust:1.96-bookworm AS build
# Node.js and npm: the bootstrap installs wasm-opt from npm.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/bootstrap.sh release
RUN scripts/release.sh

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app app \
 && mkdir -p /app/data && chown app /app/data
WORKDIR /app
COPY --from=build /src/target/release/server /app/server
# The content hashes of the site's file names: read from beside the binary.
COPY --from=build /src/target/release/hash.txt /app/hash.txt
COPY --from=build /src/target/site /app/site
# Listen on every interface of the container; the site cargo-leptos built;
# JSON logs for a collector. SQLite (one instance) unless DATABASE_URL says
# postgres://…; the keys come from the environment (sandbox mode without them).
ENV LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_OUTPUT_NAME=fc_app \
    LEPTOS_ENV=PROD \
    LOG_FORMAT=json \
    DATABASE_URL=sqlite:///app/data/fc_app.db
USER app
EXPOSE 3000
# SIGTERM drains: in-flight requests get HTTP_SHUTDOWN_GRACE_SECS.
STOPSIGNAL SIGTERM
CMD ["/app/server"]
