-- Only sessions whose IdM named its session are found by it (back-channel logout by sid):
-- the others need no entry, and a sign-in without a sid writes one index page fewer.
DROP INDEX merchant_sessions_idm_sid;
CREATE INDEX merchant_sessions_idm_sid ON merchant_sessions (app_id, idm_sid) WHERE idm_sid IS NOT NULL;
