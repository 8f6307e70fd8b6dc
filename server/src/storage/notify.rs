//! Notifications between instances sharing a PostgreSQL database: `NOTIFY`
//! on a channel named after the schema (so apps in other schemas of the same
//! database never hear them), and a [`Listener`] that reconnects with backoff
//! and says when it may have missed some. The payloads are the caller's
//! (small: ids only); PostgreSQL delivers them to every listener, the
//! sender's own included. SQLite has no such thing: one process, one
//! in-memory broadcast (see `crate::live`).

use super::{On, Storage, StorageError};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::time::Duration;

/// First wait after the listener's connection fails; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// PostgreSQL's longest identifier (NAMEDATALEN − 1).
const MAX_CHANNEL_LEN: usize = 63;

/// Where an instance listens: the database's connect options and the channel.
pub struct Channel {
    options: PgConnectOptions,
    name: String,
}

impl Channel {
    pub(super) fn new(options: PgConnectOptions, schema: &str) -> Self {
        Channel {
            options: options.application_name("bank-link-listener"),
            name: channel_name(schema),
        }
    }
}

/// `fc_live.<schema>`, or a hash of the schema when that would be too long.
fn channel_name(schema: &str) -> String {
    let readable = format!("fc_live.{schema}");
    if readable.len() <= MAX_CHANNEL_LEN {
        readable
    } else {
        format!("fc_live.{}", hex::encode(&Sha256::digest(schema.as_bytes())[..16]))
    }
}

/// What a [`Listener`] heard.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// A payload some instance (perhaps this one) sent.
    Message(String),
    /// The connection was lost and is back: anything sent meanwhile is gone.
    Missed,
}

impl Storage {
    /// Sends `payload` to every instance's listener, once the current
    /// transaction commits (here: at once). Nothing to do on SQLite.
    pub async fn notify(&self, payload: &str) -> Result<(), StorageError> {
        let (On::Postgres(pool), Some(channel)) = (&self.db, &self.channel) else {
            return Ok(());
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&channel.name)
            .bind(payload)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// A listener on this database's channel; `None` on SQLite. It connects
    /// on its own connection (not one of the pool's) when first asked.
    pub fn listener(&self) -> Option<Listener> {
        let channel = self.channel.as_ref()?;
        Some(Listener {
            options: channel.options.clone(),
            channel: channel.name.clone(),
            connection: None,
            connected_before: false,
            backoff: MIN_BACKOFF,
        })
    }
}

pub struct Listener {
    options: PgConnectOptions,
    channel: String,
    connection: Option<PgListener>,
    /// A connection after the first is a reconnection: something may be missed.
    connected_before: bool,
    backoff: Duration,
}

impl Listener {
    /// The next thing heard. While the database cannot be reached it keeps
    /// trying, waiting longer each time (50 ms doubling to 5 s); the first
    /// thing after a lost connection comes back is [`Heard::Missed`].
    pub async fn next(&mut self) -> Heard {
        loop {
            let Some(listener) = self.connection.as_mut() else {
                match self.connect().await {
                    Ok(listener) => {
                        self.connection = Some(listener);
                        self.backoff = MIN_BACKOFF;
                        if std::mem::replace(&mut self.connected_before, true) {
                            return Heard::Missed;
                        }
                    }
                    Err(e) => self.pause(&e).await,
                }
                continue;
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => return Heard::Message(notification.payload().to_owned()),
                // sqlx lost the connection and has already reconnected and
                // listens again: the notifications in between are lost.
                Ok(None) => {
                    tracing::warn!("live-update listener reconnected");
                    return Heard::Missed;
                }
                Err(e) => {
                    self.connection = None;
                    self.pause(&StorageError::Db(e)).await;
                }
            }
        }
    }

    async fn connect(&self) -> Result<PgListener, StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(self.options.clone())
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(&self.channel).await?;
        Ok(listener)
    }

    async fn pause(&mut self, error: &StorageError) {
        tracing::warn!("live-update listener: {error}; retrying in {:?}", self.backoff);
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestDb;
    use super::super::Backend;
    use super::*;

    #[test]
    fn channels_are_per_schema_and_never_too_long() {
        assert_eq!(channel_name("public"), "fc_live.public");
        assert_ne!(channel_name("a"), channel_name("b"));
        let long = "s".repeat(63);
        assert!(channel_name(&long).len() <= MAX_CHANNEL_LEN);
        assert_ne!(channel_name(&long), channel_name(&"t".repeat(63)));
    }

    #[tokio::test]
    async fn sqlite_has_no_listener() {
        let db = TestDb::new(Backend::Sqlite).await.expect("SQLite always runs");
        let storage = db.open().await;
        assert!(storage.listener().is_none());
        storage.notify("ignored").await.unwrap();
    }

    /// Reads until a message arrives (at most 10 s), skipping `Missed`.
    async fn next_message(listener: &mut Listener) -> String {
        let wait = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Heard::Message(m) = listener.next().await {
                    return m;
                }
            }
        });
        wait.await.expect("a message arrives")
    }

    #[tokio::test]
    async fn instances_hear_each_other_and_a_lost_connection_is_reported() {
        let Some(db) = TestDb::new(Backend::Postgres).await else {
            return;
        };
        let (a, b) = (db.open().await, db.open().await);
        let mut heard_by_a = a.listener().expect("PostgreSQL listens");
        // Listening starts with the first call: send until it hears one.
        let sending = async {
            loop {
                b.notify("hello").await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::select! {
            heard = next_message(&mut heard_by_a) => assert_eq!(heard, "hello"),
            _ = sending => unreachable!(),
        }

        // Another schema in the same database hears nothing of this one.
        let Some(other_db) = TestDb::new(Backend::Postgres).await else {
            return;
        };
        let other = other_db.open().await;
        other.notify("not for you").await.unwrap();
        b.notify("for a").await.unwrap();
        assert_eq!(next_message(&mut heard_by_a).await, "for a");

        // The server drops the listener's connection: it comes back and says so.
        let ended = db
            .query_i64(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = 'bank-link-listener' AND query LIKE '%' || $1 || '%'",
                &[heard_by_a.channel.as_str()],
            )
            .await;
        assert_eq!(ended, 1, "one listener on this schema's channel");
        let after = tokio::time::timeout(Duration::from_secs(10), heard_by_a.next()).await;
        assert_eq!(after.expect("it reconnects"), Heard::Missed);
        b.notify("again").await.unwrap();
        assert_eq!(next_message(&mut heard_by_a).await, "again");
    }
}
