-- Payments: PaymentIntents this app created (ACH Direct Debit from a linked
-- account, or pay by bank through Stripe.js), as last known. Amounts in
-- minor units; times in Unix seconds.
CREATE TABLE payments (
    id               TEXT PRIMARY KEY,              -- pi_…
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id       TEXT,                          -- fca_… it debits; NULL for pay by bank
    amount_minor     BIGINT NOT NULL CHECK (amount_minor > 0),
    currency         TEXT NOT NULL,
    description      TEXT,
    bank             TEXT,                          -- "Bank ••6789" when known
    attempt          TEXT NOT NULL,                 -- the page's attempt id (idempotency)
    status           TEXT NOT NULL,                 -- Stripe's PaymentIntent status
    -- Which read of the PaymentIntent is stored: the one with the later
    -- status_at (an event's `created`, or when the app read it), the higher
    -- status_rank on a tie; a final status (rank 6) is never replaced.
    status_rank      BIGINT NOT NULL,
    status_at        BIGINT NOT NULL,
    failure_code     TEXT,                          -- last_payment_error.code
    failure_message  TEXT,                          -- last_payment_error.message
    verification_url TEXT,                          -- microdeposits: hosted verification page
    payment_method   TEXT,                          -- pm_…
    mandate          TEXT,                          -- mandate_…
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX payments_by_user ON payments (user_id, created_at);
CREATE INDEX payments_by_account ON payments (account_id, created_at);
