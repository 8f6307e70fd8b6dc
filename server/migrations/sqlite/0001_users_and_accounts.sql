-- Portable SQL (SQLite today, PostgreSQL later): no engine-specific types.

-- One row per app user. `id` is the login seam: today the hash of an
-- anonymous browser-session token; a product with its own login stores its
-- user id here.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    customer_id TEXT UNIQUE,              -- cus_…, set once
    name        TEXT,
    email       TEXT,
    created_at  BIGINT NOT NULL
);

-- Sessions start_link created and confirm_link has not consumed yet.
CREATE TABLE pending_sessions (
    session_id TEXT PRIMARY KEY,          -- fcsess_…
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX pending_sessions_by_user ON pending_sessions (user_id, created_at);

-- Linked accounts as last reconciled with Stripe.
CREATE TABLE accounts (
    id               TEXT PRIMARY KEY,    -- fca_…
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id      TEXT NOT NULL,
    institution_name TEXT NOT NULL,
    display_name     TEXT,
    last4            TEXT,
    category         TEXT NOT NULL,
    subcategory      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'disconnected', 'unknown')),
    permissions      TEXT NOT NULL,       -- JSON array of permission names
    linked_at        BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX accounts_by_user ON accounts (user_id, linked_at);
