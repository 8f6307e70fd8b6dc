-- Stripe events already handled: a redelivered event id is a no-op.
CREATE TABLE webhook_events (
    id          TEXT PRIMARY KEY,             -- evt_…
    type        TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
