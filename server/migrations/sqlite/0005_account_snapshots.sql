-- The last full view of each account the app got from Stripe (balance with
-- available/credit, refresh states, owners, subscription) as JSON, so its page
-- can still show it when Stripe cannot be reached.
ALTER TABLE accounts ADD COLUMN snapshot TEXT;
ALTER TABLE accounts ADD COLUMN snapshot_at BIGINT;
