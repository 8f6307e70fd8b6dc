//! The sandbox's state file: one SQLite database of its own (never the
//! app's), holding each secret key's space as one JSON row and a few named
//! settings (such as the embedded app's key). Written through: every change
//! a request or the clock makes is in the file before the response goes out
//! ([`super::Sandbox::flush`]), one row per key that changed, so a write costs
//! what that key holds, not what the sandbox holds. The file is opened
//! exclusively: a second process on the same file waits, then fails to start
//! with a message, rather than both writing it.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteLockingMode, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _, Row as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The format of the rows this build writes; a file with a newer one is refused.
const FORMAT: i64 = 1;

/// What to do when the file cannot be opened or set up.
const IN_USE_HINT: &str = "another process may have it open: stop it, or give this one \
     SANDBOX_DATABASE_URL=sqlite://other.db or SANDBOX_DATABASE_URL=memory";

/// An open state file: one connection, taken in turn. Not a pool: closing
/// must release the file's exclusive lock by the time it returns, so the
/// next start can open it (sqlx's `Pool::close` can leave a connection that
/// was on its way back to the pool open).
pub struct Store {
    conn: tokio::sync::Mutex<Option<SqliteConnection>>,
    path: PathBuf,
}

/// A key's row: its space as JSON.
pub struct Row {
    pub key: String,
    pub data: String,
}

impl Store {
    /// Opens (creating it, readable by its owner only) the state file at
    /// `path` and makes its tables.
    pub async fn open(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        create_private(path).map_err(|e| format!("sandbox state file {shown}: {e}"))?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .locking_mode(SqliteLockingMode::Exclusive)
            .busy_timeout(Duration::from_secs(3));
        let conn = options
            .connect()
            .await
            .map_err(|e| format!("sandbox state file {shown}: {e} ({IN_USE_HINT})"))?;
        let store = Store {
            conn: tokio::sync::Mutex::new(Some(conn)),
            path: path.to_owned(),
        };
        store
            .migrate()
            .await
            .map_err(|e| format!("sandbox state file {shown}: {e}"))?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), String> {
        // A busy file is the likely failure here.
        let busy = |e: sqlx::Error| format!("{e} ({IN_USE_HINT})");
        let mut conn = self.conn.lock().await;
        let mut tx = open(&mut conn).map_err(busy)?.begin().await.map_err(busy)?;
        for ddl in [
            "CREATE TABLE IF NOT EXISTS sandbox_spaces (
                key TEXT PRIMARY KEY NOT NULL,
                used_at INTEGER NOT NULL,
                data TEXT NOT NULL
            )",
            "CREATE TABLE IF NOT EXISTS sandbox_settings (
                name TEXT PRIMARY KEY NOT NULL,
                value TEXT NOT NULL
            )",
        ] {
            sqlx::query(ddl).execute(&mut *tx).await.map_err(busy)?;
        }
        let format: Option<String> = sqlx::query_scalar("SELECT value FROM sandbox_settings WHERE name = 'format'")
            .fetch_optional(&mut *tx)
            .await
            .map_err(busy)?;
        match format.as_deref().map(str::parse::<i64>) {
            None => {
                sqlx::query("INSERT INTO sandbox_settings (name, value) VALUES ('format', ?)")
                    .bind(FORMAT.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(busy)?;
            }
            Some(Ok(f)) if f <= FORMAT => {}
            Some(_) => {
                return Err(format!(
                    "written by a newer version of the sandbox (format {}, this one reads {FORMAT}); \
                     delete the file to start empty",
                    format.unwrap_or_default()
                ))
            }
        }
        tx.commit().await.map_err(busy)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every key's row, least recently written first.
    pub async fn load(&self) -> Result<Vec<Row>, sqlx::Error> {
        let mut conn = self.conn.lock().await;
        let rows = sqlx::query("SELECT key, data FROM sandbox_spaces ORDER BY used_at, key")
            .fetch_all(open(&mut conn)?)
            .await?;
        rows.into_iter()
            .map(|r| -> Result<Row, sqlx::Error> {
                Ok(Row {
                    key: r.try_get("key")?,
                    data: r.try_get("data")?,
                })
            })
            .collect()
    }

    /// Forgets `deletes`, then writes `writes` (key, JSON), in one transaction.
    pub async fn write(&self, writes: &[(String, String)], deletes: &[String], used_at: i64) -> Result<(), sqlx::Error> {
        let mut conn = self.conn.lock().await;
        let mut tx = open(&mut conn)?.begin().await?;
        for key in deletes {
            sqlx::query("DELETE FROM sandbox_spaces WHERE key = ?")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        for (key, data) in writes {
            sqlx::query(
                "INSERT INTO sandbox_spaces (key, used_at, data) VALUES (?, ?, ?)
                 ON CONFLICT (key) DO UPDATE SET used_at = excluded.used_at, data = excluded.data",
            )
            .bind(key)
            .bind(used_at)
            .bind(data)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// The setting `name`, made with `fresh()` and stored the first time.
    pub async fn setting(&self, name: &str, fresh: impl FnOnce() -> String) -> Result<String, sqlx::Error> {
        let mut conn = self.conn.lock().await;
        let conn = open(&mut conn)?;
        let found: Option<String> = sqlx::query_scalar("SELECT value FROM sandbox_settings WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(v) = found {
            return Ok(v);
        }
        let value = fresh();
        sqlx::query("INSERT INTO sandbox_settings (name, value) VALUES (?, ?)")
            .bind(name)
            .bind(&value)
            .execute(conn)
            .await?;
        Ok(value)
    }

    /// Closes the file: once this returns, another sandbox may open it.
    /// Later calls fail with [`sqlx::Error::PoolClosed`].
    pub async fn close(&self) {
        if let Some(conn) = self.conn.lock().await.take() {
            if let Err(e) = conn.close().await {
                tracing::warn!(error = %e, file = %self.path.display(), "closing the sandbox's state file");
            }
        }
    }
}

/// The connection, unless the store is closed.
fn open(conn: &mut Option<SqliteConnection>) -> Result<&mut SqliteConnection, sqlx::Error> {
    conn.as_mut().ok_or(sqlx::Error::PoolClosed)
}

/// Creates the file if it is missing, readable and writable by its owner only
/// (it holds the keys that made each space).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(|_| ())
}
