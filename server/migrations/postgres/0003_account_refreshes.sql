-- Each kind of data's last refresh (status, when, next allowed) as last read
-- from Stripe, as JSON: the dashboard shows "last synced" and what Refresh
-- all may start without reading every account from Stripe first.
ALTER TABLE accounts ADD COLUMN refreshes TEXT;
