-- Accounts linked at Stripe that the app never confirmed (a closed tab, a
-- crash) are found again: by webhook, or by listing the user's accounts.
ALTER TABLE users ADD COLUMN accounts_checked_at BIGINT;  -- last listing of the user's accounts at Stripe
-- When the stored state of an account was read from Stripe (Unix ms): a read
-- that finished earlier never overwrites a later one.
ALTER TABLE accounts ADD COLUMN observed_at_ms BIGINT;
