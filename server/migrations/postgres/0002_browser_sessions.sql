-- Browser sessions: the cookie's token maps to a user through this table, so
-- sessions expire (idle and absolute) and can be revoked. Only the token's
-- SHA-256 is stored: the table alone cannot be replayed as cookies.
CREATE TABLE browser_sessions (
    token_hash   TEXT PRIMARY KEY,            -- hex SHA-256 of the cookie's token
    user_id      TEXT NOT NULL,               -- users.id (the users row is made on first write)
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,             -- refreshed at most once a minute
    revoked_at   BIGINT
);
CREATE INDEX browser_sessions_by_user ON browser_sessions (user_id);
CREATE INDEX browser_sessions_by_last_seen ON browser_sessions (last_seen_at);

-- Users from before this table were named by their token's hash: their
-- cookie is honoured once more, and becomes a session row.
ALTER TABLE users ADD COLUMN legacy_session BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET legacy_session = TRUE;

CREATE INDEX pending_sessions_by_age ON pending_sessions (created_at);
CREATE INDEX webhook_events_by_age ON webhook_events (received_at);
