//! Test support, for this crate's unit tests and `server/tests`: a fresh
//! database per test on either backend, and [`backend_tests!`](crate::backend_tests),
//! which runs a test once on each.
//!
//! SQLite: a new file in the temp directory. PostgreSQL: a new schema
//! (`fc_test_<unix time>_<random>`) in the database `TEST_DATABASE_URL`
//! names, reached through `options=-c search_path=<schema>`, so tests run in
//! parallel on one server; it is dropped when the [`TestDb`] is, and any
//! left behind by a crashed run is dropped by a later one after an hour.
//! Without `TEST_DATABASE_URL` the PostgreSQL variants say so and pass,
//! except under `CI=true`, where they fail.

use super::{Backend, Storage};
use crate::config::DatabaseConfig;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Executor};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Where a PostgreSQL test database comes from.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";
/// Schemas a crashed run left behind are dropped after this long.
const STALE_AFTER_SECS: i64 = 3600;

/// Declares one `#[tokio::test]` per backend for each listed
/// `async fn name(db: TestDb)`: `sqlite::name` and `postgres::name` (so
/// `cargo test name` runs both). Use it once per module.
#[macro_export]
macro_rules! backend_tests {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let db = $crate::storage::testing::TestDb::new($crate::storage::Backend::Sqlite).await;
                    super::$test(db.expect("SQLite always runs")).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if let Some(db) = $crate::storage::testing::TestDb::new($crate::storage::Backend::Postgres).await {
                        super::$test(db).await
                    }
                }
            )+
        }
    };
}

/// A database of its own for one test.
pub struct TestDb {
    pub backend: Backend,
    /// What `DATABASE_URL` would say to reach it.
    pub url: String,
    /// PostgreSQL: the server (`TEST_DATABASE_URL`) and the schema, to drop it.
    schema: Option<(String, String)>,
}

impl TestDb {
    /// A fresh, empty database; `None` for PostgreSQL when none is
    /// configured (outside CI). Panics when one is configured but unusable.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("fc-test-{}.db", crate::session::new_token()));
                Some(TestDb {
                    backend,
                    url: format!("sqlite://{}", path.display()),
                    schema: None,
                })
            }
            Backend::Postgres => Self::postgres().await,
        }
    }

    async fn postgres() -> Option<TestDb> {
        let Ok(server) = std::env::var(TEST_DATABASE_URL) else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true: the PostgreSQL tests need {TEST_DATABASE_URL} (make test sets it when PostgreSQL answers on 127.0.0.1:5432)");
            }
            eprintln!("skipped on PostgreSQL: {TEST_DATABASE_URL} is not set (make test sets it when PostgreSQL answers on 127.0.0.1:5432)");
            return None;
        };
        let mut conn = PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL}: cannot connect: {e}"));
        sweep_stale_schemas(&mut conn).await;
        let now = crate::clock::unix_now();
        let schema = format!("fc_test_{now}_{}", &crate::session::new_token()[..12]);
        conn.execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL}: cannot create a schema: {e}"));
        let separator = if server.contains('?') { '&' } else { '?' };
        Some(TestDb {
            backend: Backend::Postgres,
            url: format!("{server}{separator}options=-c%20search_path%3D{schema}"),
            schema: Some((server, schema)),
        })
    }

    /// The configuration the app would read from `DATABASE_URL=<url>`, with a
    /// small pool (tests run in parallel on one server).
    pub fn config(&self) -> DatabaseConfig {
        DatabaseConfig {
            max_connections: 5,
            ..DatabaseConfig::new(self.url.clone())
        }
    }

    /// Opens (and migrates) it as the app does.
    pub async fn open(&self) -> Storage {
        Storage::open(&self.config())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.backend_name()))
    }

    /// Runs one statement on a connection of its own, binding `args` as
    /// `$1`, `$2`…; for tests that look past the app.
    pub async fn execute(&self, sql: &str, args: &[&str]) -> Result<u64, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut q = sqlx::query(sql);
                for a in args {
                    q = q.bind(*a);
                }
                Ok(q.execute(&mut self.sqlite().await?).await?.rows_affected())
            }
            Backend::Postgres => {
                let mut q = sqlx::query(sql);
                for a in args {
                    q = q.bind(*a);
                }
                Ok(q.execute(&mut PgConnection::connect(&self.url).await?).await?.rows_affected())
            }
        }
    }

    /// The first column of the first row of a query returning a BIGINT.
    pub async fn query_i64(&self, sql: &str, args: &[&str]) -> i64 {
        self.query_one(sql, args).await
    }

    /// The first column of the first row of a query returning TEXT.
    pub async fn query_string(&self, sql: &str, args: &[&str]) -> String {
        self.query_one(sql, args).await
    }

    async fn query_one<T>(&self, sql: &str, args: &[&str]) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>
            + Send
            + Unpin,
    {
        let run = async {
            match self.backend {
                Backend::Sqlite => {
                    let mut q = sqlx::query_scalar(sql);
                    for a in args {
                        q = q.bind(*a);
                    }
                    q.fetch_one(&mut self.sqlite().await?).await
                }
                Backend::Postgres => {
                    let mut q = sqlx::query_scalar(sql);
                    for a in args {
                        q = q.bind(*a);
                    }
                    q.fetch_one(&mut PgConnection::connect(&self.url).await?).await
                }
            }
        };
        run.await
            .unwrap_or_else(|e: sqlx::Error| panic!("{} query {sql}: {e}", self.backend_name()))
    }

    async fn sqlite(&self) -> Result<SqliteConnection, sqlx::Error> {
        SqliteConnectOptions::from_str(&self.url)?
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .connect()
            .await
    }

    fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

impl Drop for TestDb {
    /// Best effort, on a thread of its own (the test's runtime may be a
    /// single thread, busy here): the SQLite files, or the schema. A lock a
    /// still-running task holds makes the drop give up after 2 s; the sweep
    /// of a later run removes the schema then.
    fn drop(&mut self) {
        match self.schema.take() {
            None => {
                let path = self.url.trim_start_matches("sqlite://").to_owned();
                for suffix in ["", "-wal", "-shm", "-migrations.lock"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            Some((server, schema)) => {
                let dropping = std::thread::spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                        return;
                    };
                    runtime.block_on(async {
                        if let Ok(mut c) = PgConnection::connect(&server).await {
                            let _ = c.execute("SET lock_timeout = '2s'").await;
                            let _ = c.execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str()).await;
                            let _ = c.close().await;
                        }
                    });
                });
                let _ = dropping.join();
            }
        }
    }
}

/// Drops the test schemas older than [`STALE_AFTER_SECS`] (once per process).
async fn sweep_stale_schemas(conn: &mut PgConnection) {
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if SWEPT.swap(true, Ordering::SeqCst) {
        return;
    }
    let Ok(names) = sqlx::query_scalar::<_, String>("SELECT nspname::TEXT FROM pg_namespace WHERE nspname LIKE 'fc\\_test\\_%'")
        .fetch_all(&mut *conn)
        .await
    else {
        return;
    };
    let cutoff = crate::clock::unix_now() - STALE_AFTER_SECS;
    for name in names {
        let created = name.split('_').nth(2).and_then(|t| t.parse::<i64>().ok());
        if created.is_some_and(|t| t < cutoff) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            let _ = conn.execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE").as_str()).await;
        }
    }
}
