//! What the app remembers, on SQLite or PostgreSQL (chosen by `DATABASE_URL`):
//! users, their Customer and pending sessions ([`users`]), browser sessions
//! ([`sessions`]), what is forgotten when ([`retention`]), linked accounts
//! and their last view ([`accounts`]), transactions and their sync cursor
//! ([`transactions`]), payments ([`payments`]), handled webhook events ([`events`]), the
//! developer panel's log ([`developer_log`]), and on
//! PostgreSQL the notifications that carry live updates between instances
//! ([`notify`]), and whether the database answers ([`health`]). This file
//! opens and migrates the database, owns the pool, the locks that serialise
//! work across instances ([`Storage::lock`]) and the one macro every query
//! goes through. Nothing outside this module
//! writes SQL.
//!
//! Each backend keeps sqlx's own pool and types (no `Any`): `sql!` runs
//! the same `$1`-numbered SQL on either, compiled (binds and row types
//! checked) once per backend; where the dialects differ (`rowid`, sums),
//! each backend's SQL is written out.

/// Runs `$body` with `$e` bound to the `&mut` connection of `$on` (anything
/// with a `conn()`: a pooled connection, a transaction, a held lock's
/// connection), once per backend: the same code and SQL text is compiled for
/// SQLite and for PostgreSQL. The second form gives each its own body, for
/// SQL that differs between the dialects. Both arms must have one type.
macro_rules! sql {
    ($on:expr, |$e:ident| $body:expr) => {
        match $on.conn() {
            $crate::storage::On::Sqlite($e) => $body,
            $crate::storage::On::Postgres($e) => $body,
        }
    };
    ($on:expr, sqlite: |$s:ident| $sqlite:expr, postgres: |$p:ident| $postgres:expr $(,)?) => {
        match $on.conn() {
            $crate::storage::On::Sqlite($s) => $sqlite,
            $crate::storage::On::Postgres($p) => $postgres,
        }
    };
}

mod accounts;
mod developer_log;
mod events;
pub mod health;
pub mod notify;
mod payments;
mod retention;
mod sessions;
pub mod testing;
mod transactions;
mod users;

pub use accounts::Observed;
pub use developer_log::NewLogEntry;
pub use payments::{NewPayment, PaymentSeen};
pub use retention::Pruned;
pub use transactions::TransactionSync;
pub use users::{UserRecord, MAX_PENDING_SESSIONS};

use crate::config::DatabaseConfig;
use crate::locks::{KeyedLocks, LockKey};
use app::error::AppError;
use secrecy::ExposeSecret;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::ops::DerefMut;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use tokio::sync::OwnedMutexGuard;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("migration lock {}: {source}", path.display())]
    MigrationLock { path: PathBuf, source: std::io::Error },
    #[error("unreadable row: {0}")]
    Corrupt(String),
    #[error("the database did not answer within {0:?}")]
    NoAnswer(std::time::Duration),
}

impl StorageError {
    /// Whether the database could not be reached (see [`health::is_unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StorageError::Db(e) => health::is_unavailable(e),
            StorageError::NoAnswer(_) => true,
            _ => false,
        }
    }
}

/// A database that cannot be reached is the caller's 503 with a sentence
/// the page shows ([`AppError::DatabaseUnavailable`]); anything else is a
/// 500 whose details stay in the log.
impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        if e.is_unavailable() {
            tracing::warn!("storage: {e}");
            AppError::DatabaseUnavailable
        } else {
            tracing::error!("storage: {e}");
            AppError::Internal
        }
    }
}

/// The two databases the app runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One thing per backend: a pool, a connection, a transaction.
pub enum On<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// A connection on either backend, borrowed for a few queries.
pub(crate) type Conn<'c> = On<&'c mut SqliteConnection, &'c mut PgConnection>;
/// A transaction on either backend; dropped without [`Tx::commit`], it rolls back.
pub(crate) type Tx<'c> = On<Transaction<'c, Sqlite>, Transaction<'c, Postgres>>;
/// A connection taken from the pool for one call.
type Pooled = On<PoolConnection<Sqlite>, PoolConnection<Postgres>>;

impl<S, P> On<S, P>
where
    S: DerefMut<Target = SqliteConnection>,
    P: DerefMut<Target = PgConnection>,
{
    /// The connection inside, borrowed (what `sql!` runs on).
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            On::Sqlite(c) => On::Sqlite(&mut **c),
            On::Postgres(c) => On::Postgres(&mut **c),
        }
    }
}

impl<'c> Conn<'c> {
    /// Starts a transaction (a savepoint when one is already open, as in a
    /// held lock on PostgreSQL).
    pub(crate) async fn begin(self) -> Result<Tx<'c>, sqlx::Error> {
        Ok(match self {
            On::Sqlite(c) => On::Sqlite(c.begin().await?),
            On::Postgres(c) => On::Postgres(c.begin().await?),
        })
    }
}

impl Tx<'_> {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            On::Sqlite(tx) => tx.commit().await,
            On::Postgres(tx) => tx.commit().await,
        }
    }

    /// Rolls back now (a dropped transaction only queues its rollback until
    /// the connection is next used, keeping its row locks until then).
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            On::Sqlite(tx) => tx.rollback().await,
            On::Postgres(tx) => tx.rollback().await,
        }
    }
}

pub struct Storage {
    db: On<SqlitePool, PgPool>,
    /// The in-process half of [`Storage::lock`].
    locks: KeyedLocks<LockKey>,
    /// PostgreSQL: where instances tell each other about live updates.
    channel: Option<notify::Channel>,
    /// Whether the database answered lately.
    health: health::Health,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`.
    acquire_timeout: std::time::Duration,
}

impl Storage {
    /// Opens the database `config` names (creating a missing SQLite file)
    /// and brings its schema up to date. Safe when several instances start
    /// at once: on PostgreSQL sqlx's migrator holds an advisory lock while it
    /// runs; on SQLite, where it takes none, a lock file beside the database
    /// makes processes take turns.
    pub async fn open(config: &DatabaseConfig) -> Result<Self, StorageError> {
        let url = config.url.expose_secret();
        if url.starts_with("sqlite:") {
            Self::open_sqlite(url, config).await
        } else {
            Self::open_postgres(url, config).await
        }
    }

    async fn open_sqlite(url: &str, config: &DatabaseConfig) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(config.statement_timeout);
        // Held from the first connection, which may switch a new file to WAL
        // (an exclusive lock SQLite does not wait for), to the last migration.
        let lock = sqlite_migration_lock(options.get_filename()).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        drop(lock);
        Ok(Storage {
            db: On::Sqlite(pool),
            locks: KeyedLocks::default(),
            channel: None,
            health: Default::default(),
            acquire_timeout: config.acquire_timeout,
        })
    }

    async fn open_postgres(url: &str, config: &DatabaseConfig) -> Result<Self, StorageError> {
        let timeout_ms = config.statement_timeout.as_millis().to_string();
        let options = PgConnectOptions::from_str(url)?
            .application_name("bank-link")
            .options([("statement_timeout", timeout_ms.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options.clone())
            .await?;
        // The first schema of the search_path (`public` unless the URL says
        // `options=-c search_path=…`): the tables and the channel live there.
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()").fetch_one(&pool).await?;
        let schema = schema.ok_or_else(|| StorageError::Corrupt("no schema of the search_path exists".into()))?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Storage {
            db: On::Postgres(pool),
            locks: KeyedLocks::default(),
            channel: Some(notify::Channel::new(options, &schema)),
            health: Default::default(),
            acquire_timeout: config.acquire_timeout,
        })
    }

    /// A pooled connection (sqlx checks an idle one before handing it out),
    /// waiting at most `DATABASE_ACQUIRE_TIMEOUT_MS`; the outcome tells
    /// [`health`] whether the database answers.
    async fn acquire(&self) -> Result<Pooled, sqlx::Error> {
        let pooled = match &self.db {
            On::Sqlite(pool) => pool.acquire().await.map(On::Sqlite),
            On::Postgres(pool) => pool.acquire().await.map(On::Postgres),
        };
        self.health.observe(&pooled);
        pooled
    }

    /// Waits until no other request works on `key`, on this instance or
    /// (PostgreSQL) any other sharing the database, and holds that until the
    /// returned [`Held`] is released or dropped.
    ///
    /// The in-process lock comes first, so requests waiting here hold no
    /// connection. On PostgreSQL the holder then opens a transaction and
    /// takes `pg_advisory_xact_lock` on the key's id: the lock ends with the
    /// transaction, so a crashed or cancelled request cannot leak it, and the
    /// work's own reads and writes run in that transaction (through [`Held`]),
    /// so a holder never needs a second connection. The wait for it counts
    /// as a statement: `DATABASE_STATEMENT_TIMEOUT_MS` bounds it. On SQLite
    /// the in-process lock is the whole lock: one process per database file.
    ///
    /// Why an advisory lock: `SELECT … FOR UPDATE` needs a row to lock, and a
    /// new user has none yet; a unique constraint alone would still let two
    /// instances ask Stripe at once (Stripe answers a second request with an
    /// idempotency key still in flight with a 409), and a transaction sync
    /// has nothing unique to insert before it has listed Stripe's pages.
    pub async fn lock(&self, key: LockKey) -> Result<Held, StorageError> {
        let local = self.locks.get(&key).lock_owned().await;
        let inner = match &self.db {
            On::Sqlite(pool) => On::Sqlite(pool.clone()),
            On::Postgres(pool) => {
                let begun = pool.begin().await;
                self.health.observe(&begun);
                let mut tx = begun?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(key.id())
                    .execute(&mut *tx)
                    .await?;
                On::Postgres(tx)
            }
        };
        Ok(Held { inner, _local: local })
    }
}

/// Exclusive work on one [`LockKey`] (see [`Storage::lock`]). Its methods
/// (in the files that own the data) run in the lock's transaction on
/// PostgreSQL and on the pool on SQLite.
pub struct Held {
    inner: On<SqlitePool, Transaction<'static, Postgres>>,
    _local: OwnedMutexGuard<()>,
}

impl Held {
    async fn handle(&mut self) -> Result<On<PoolConnection<Sqlite>, &mut PgConnection>, sqlx::Error> {
        Ok(match &mut self.inner {
            On::Sqlite(pool) => On::Sqlite(pool.acquire().await?),
            On::Postgres(tx) => On::Postgres(&mut **tx),
        })
    }

    /// Commits what was written under the lock and lets the next one in.
    /// Dropping a `Held` instead rolls its writes back (PostgreSQL).
    pub async fn release(self) -> Result<(), StorageError> {
        if let On::Postgres(tx) = self.inner {
            tx.commit().await?;
        }
        Ok(())
    }
}

/// sqlx's migrator takes no lock on SQLite: two processes starting on a new
/// file would both create the tables, and one would fail (or find the file
/// locked while the other switches it to WAL). They take turns on an
/// exclusive lock of `<database>-migrations.lock` instead (released when the
/// returned file closes). In-memory databases need none.
async fn sqlite_migration_lock(database: &Path) -> Result<Option<std::fs::File>, StorageError> {
    let name = database.as_os_str();
    // sqlx names in-memory databases `:memory:` or `file:sqlx-in-memory-…`.
    if name.is_empty() || name == ":memory:" || name.to_string_lossy().starts_with("file:") {
        return Ok(None);
    }
    let mut path = name.to_owned();
    path.push("-migrations.lock");
    let path = PathBuf::from(path);
    let locking = path.clone();
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&locking)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r);
    locked
        .map(Some)
        .map_err(|source| StorageError::MigrationLock { path, source })
}

#[cfg(test)]
mod tests {
    use super::testing::TestDb;
    use super::*;

    crate::backend_tests!(
        migrations_run_once_when_instances_start_together,
        a_lock_holds_until_released_or_dropped,
    );

    async fn migrations_run_once_when_instances_start_together(db: TestDb) {
        let config = db.config();
        let opening = (0..4).map(|_| Storage::open(&config));
        for opened in futures_util::future::join_all(opening).await {
            opened.expect("every instance starts");
        }
        let applied = db.query_i64("SELECT COUNT(*) FROM _sqlx_migrations", &[]).await;
        let expected = match db.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").iter().count(),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").iter().count(),
        } as i64;
        assert_eq!(applied, expected);
    }

    /// Two instances (two pools on one database) and one key.
    async fn a_lock_holds_until_released_or_dropped(db: TestDb) {
        use app::service::UserId;
        use std::time::Duration;
        let (a, b) = (db.open().await, db.open().await);
        let key = LockKey::Customer(UserId::new("u1"));
        let wait = Duration::from_millis(200);
        let held = a.lock(key.clone()).await.unwrap();
        assert!(
            tokio::time::timeout(wait, a.lock(key.clone())).await.is_err(),
            "the same instance waits"
        );
        let other = a.lock(LockKey::Customer(UserId::new("u2"))).await;
        assert!(other.is_ok(), "other keys are free");
        drop(other);
        if db.backend == Backend::Postgres {
            assert!(
                tokio::time::timeout(wait, b.lock(key.clone())).await.is_err(),
                "another instance waits"
            );
            // Writes under the lock are its transaction's: visible once released.
            let mut held = held;
            held.set_details(&UserId::new("u1"), &Default::default()).await.unwrap();
            assert_eq!(db.query_i64("SELECT COUNT(*) FROM users", &[]).await, 0);
            held.release().await.unwrap();
            assert_eq!(db.query_i64("SELECT COUNT(*) FROM users", &[]).await, 1);
            // A holder that goes away (a cancelled request) frees the key too.
            let dropped = b.lock(key.clone()).await.unwrap();
            drop(dropped);
        } else {
            drop(held);
        }
        for instance in [&b, &a] {
            let next = tokio::time::timeout(Duration::from_secs(5), instance.lock(key.clone())).await;
            drop(next.expect("free again").unwrap());
        }
    }

    /// SHA-384 of each SQLite migration as first released: databases made by
    /// earlier versions record these, and sqlx refuses to start if a file
    /// they applied has changed. Never edit these files; add a new one.
    const SQLITE_HISTORY: [(i64, &str); 6] = [
        (
            1,
            "af0f565d35b3fba45d481f515686b40e8f097185a477153fc01cafa8d8c9db7694d7abc25bd6b292c4d47ea9c8e6428a",
        ),
        (
            2,
            "7af5718c1a6b622762713c570c4ededad3c6de462a54e7cd5b98f905cf6e1f1da2567df94c8a64839d7a271d411ef0ac",
        ),
        (
            3,
            "cb1edd582b283245d678ebdc90313be0e08ae43f779e4858b7a52417ccfc1195bd43894df62d3329045d6fdcaf996d07",
        ),
        (
            4,
            "2cb885be225292b35dc9b11d8bcf4d64b1926be569e82dfaaf4bd9fb15ccbd44f20b06e6ff1f2639074e2d6098d90850",
        ),
        (
            5,
            "81e956053a6e2e262e89a42f3114ee8ca2ae680455b49f1be202681ff2ed9ef290d556a59924a632b390f637657ec9a1",
        ),
        (
            6,
            "700af48fd902d3df862a0195fefcd900cef97818487cd324dd44925beca23109f8e6836cb85b71676fbf128ff292178e",
        ),
    ];

    #[test]
    fn the_sqlite_migration_history_is_unchanged() {
        let embedded: Vec<(i64, String)> = sqlx::migrate!("./migrations/sqlite")
            .iter()
            .take(SQLITE_HISTORY.len())
            .map(|m| (m.version, hex::encode(&*m.checksum)))
            .collect();
        let released: Vec<(i64, String)> = SQLITE_HISTORY.iter().map(|(v, c)| (*v, c.to_string())).collect();
        assert_eq!(embedded, released);
    }

    #[tokio::test]
    async fn a_database_from_before_the_move_still_opens() {
        // Applied by the previous release from server/migrations/*.sql.
        let db = TestDb::new(Backend::Sqlite).await.expect("SQLite always runs");
        let options = SqliteConnectOptions::from_str(&db.url).unwrap().create_if_missing(true);
        let mut old = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
        )
        .execute(&mut old)
        .await
        .unwrap();
        for (migration, (version, checksum)) in sqlx::migrate!("./migrations/sqlite").iter().zip(SQLITE_HISTORY) {
            sqlx::raw_sql(&migration.sql).execute(&mut old).await.unwrap();
            sqlx::query("INSERT INTO _sqlx_migrations VALUES ($1, $2, CURRENT_TIMESTAMP, TRUE, $3, 0)")
                .bind(version)
                .bind(migration.description.as_ref())
                .bind(hex::decode(checksum).unwrap())
                .execute(&mut old)
                .await
                .unwrap();
        }
        old.close().await.unwrap();
        db.open().await;
    }

    #[tokio::test]
    async fn sqlite_migration_lock_is_exclusive() {
        let db = TestDb::new(Backend::Sqlite).await.expect("SQLite always runs");
        let database = PathBuf::from(db.url.trim_start_matches("sqlite://"));
        let held = sqlite_migration_lock(&database)
            .await
            .unwrap()
            .expect("a file database locks");
        let mut path = database.into_os_string();
        path.push("-migrations.lock");
        let other = std::fs::File::open(&path).unwrap();
        assert!(
            matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            "another process waits"
        );
        drop(held);
        assert!(other.try_lock().is_ok(), "its turn once the first is done");
        assert!(sqlite_migration_lock(Path::new(":memory:")).await.unwrap().is_none());
    }
}
