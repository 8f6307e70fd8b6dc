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

-- The newest transaction refresh the stored copy includes: the next sync asks
-- Stripe only for what later refreshes touched (`transaction_refresh[after]`).
ALTER TABLE accounts ADD COLUMN transactions_cursor TEXT;       -- fctxnref_…
ALTER TABLE accounts ADD COLUMN transactions_synced_at BIGINT;  -- that refresh's last_attempted_at
