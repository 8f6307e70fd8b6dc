-- The developer panel's log (`/developer`), as migrations/sqlite/0009: every
-- Stripe request made on a user's behalf, every webhook event that touched
-- their data and every Stripe.js result their pages reported, redacted
-- before it is written. (0003 is left to the payments tables.)
CREATE TABLE developer_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id TEXT NOT NULL,                       -- users.id (no foreign key: entries may be written first; pruned with the user)
    at_ms   BIGINT NOT NULL,                     -- when it happened (Unix ms)
    kind    TEXT NOT NULL CHECK (kind IN ('stripe_request', 'webhook', 'stripe_js')),
    detail  TEXT NOT NULL                        -- JSON of app::model::developer::LogDetail
);
CREATE INDEX developer_log_by_user ON developer_log (user_id, id);
CREATE INDEX developer_log_by_age ON developer_log (at_ms);
