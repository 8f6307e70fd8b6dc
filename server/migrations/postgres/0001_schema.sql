-- PostgreSQL: the schema SQLite reaches through migrations/sqlite/0001–0006,
-- in one step (this backend has no older databases to carry along). Same
-- tables, columns (in the same order) and constraints; money in BIGINT minor
-- units, times as BIGINT Unix seconds (ms where the name says so). JSON stays
-- TEXT, as in SQLite: the app
-- reads and writes it whole and never queries inside it.

-- One row per app user. `id` is the login seam: today the hash of an
-- anonymous browser-session token; a product with its own login stores its
-- user id here.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    customer_id TEXT UNIQUE,              -- cus_…, set once
    name        TEXT,
    email       TEXT,
    created_at  BIGINT NOT NULL,
    accounts_checked_at BIGINT            -- last listing of the user's accounts at Stripe
);

-- Sessions start_link created and confirm_link has not consumed yet.
CREATE TABLE pending_sessions (
    session_id TEXT PRIMARY KEY,          -- fcsess_…
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    seq        BIGINT GENERATED ALWAYS AS IDENTITY  -- insertion order (SQLite's rowid)
);
CREATE INDEX pending_sessions_by_user ON pending_sessions (user_id, created_at);

-- Linked accounts as last reconciled with Stripe.
CREATE TABLE accounts (
    id                     TEXT PRIMARY KEY,    -- fca_…
    user_id                TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id            TEXT NOT NULL,
    institution_name       TEXT NOT NULL,
    display_name           TEXT,
    last4                  TEXT,
    category               TEXT NOT NULL,
    subcategory            TEXT NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'disconnected', 'unknown')),
    permissions            TEXT NOT NULL,       -- JSON array of permission names
    linked_at              BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    -- The last balance Stripe reported, for the dashboard (minor units).
    balance_minor          BIGINT,
    balance_currency       TEXT,
    balance_as_of          BIGINT,
    -- The newest transaction refresh the stored copy includes: the next sync
    -- asks Stripe only for what later refreshes touched.
    transactions_cursor    TEXT,                -- fctxnref_…
    transactions_synced_at BIGINT,              -- that refresh's last_attempted_at
    -- The last full view Stripe gave (JSON), shown when Stripe is unreachable.
    snapshot               TEXT,
    snapshot_at            BIGINT,
    -- When the stored state was read from Stripe (Unix ms): a read that
    -- finished earlier never overwrites a later one.
    observed_at_ms         BIGINT,
    seq                    BIGINT GENERATED ALWAYS AS IDENTITY  -- insertion order (SQLite's rowid)
);
CREATE INDEX accounts_by_user ON accounts (user_id, linked_at);

-- Stripe events already handled: a redelivered event id is a no-op, whichever
-- instance it reaches.
CREATE TABLE webhook_events (
    id          TEXT PRIMARY KEY,             -- evt_…
    type        TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

-- Transactions as last synced from Stripe (amounts in minor units).
CREATE TABLE transactions (
    id            TEXT PRIMARY KEY,       -- fctxn_…
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    amount_minor  BIGINT NOT NULL,        -- negative is money out
    currency      TEXT NOT NULL,
    description   TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'void')),
    transacted_at BIGINT NOT NULL,
    updated       BIGINT NOT NULL         -- Stripe's `updated`: newer never loses to older
);
CREATE INDEX transactions_by_account ON transactions (account_id, transacted_at);
