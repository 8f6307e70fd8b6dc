# Sourced by `make test-rust`: picks the PostgreSQL the Rust tests also run
# on. TEST_DATABASE_URL wins when set; otherwise a server answering on
# 127.0.0.1:5432 is used as postgres://root@127.0.0.1:5432/test (each test
# makes and drops a schema of its own there). With none, the PostgreSQL
# variants of the tests say they are skipped, except under CI=true, where
# that is an error.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5432' 2>/dev/null; then
    export TEST_DATABASE_URL="postgres://root@127.0.0.1:5432/test"
  elif [ "${CI:-}" = "true" ]; then
    echo "error: CI=true and no PostgreSQL answers on 127.0.0.1:5432; start it or set TEST_DATABASE_URL" >&2
    return 1
  fi
fi
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  shown="$(printf '%s' "$TEST_DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#; s#\?.*##')"
  echo "ok: Rust tests run on SQLite and on PostgreSQL ($shown)"
  unset shown
else
  echo "note: no PostgreSQL on 127.0.0.1:5432 (nor TEST_DATABASE_URL): its test variants are skipped"
fi
