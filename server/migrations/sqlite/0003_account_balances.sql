-- The last balance Stripe reported, for the dashboard (minor units).
ALTER TABLE accounts ADD COLUMN balance_minor BIGINT;
ALTER TABLE accounts ADD COLUMN balance_currency TEXT;
ALTER TABLE accounts ADD COLUMN balance_as_of BIGINT;
