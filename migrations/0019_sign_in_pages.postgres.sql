-- Fewer indexes for a sign-in to write (the SQLite file of this version says why there).
-- The event log is read only by app, newest first: its key becomes (app, time, id), which
-- serves those reads, and the separate (app, time) index goes. The heap stays as it is.
ALTER TABLE sso_events DROP CONSTRAINT sso_events_pkey;
ALTER TABLE sso_events ADD PRIMARY KEY (app_id, occurred_at, id);
DROP INDEX sso_events_app_time;

-- A session is looked up by its user, or by its user and account, never by account alone.
DROP INDEX merchant_sessions_user;
DROP INDEX merchant_sessions_account;
CREATE INDEX merchant_sessions_user_account ON merchant_sessions (user_id, account_id);
