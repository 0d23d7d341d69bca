-- A login's flow travels sealed in its `state` (src/services/login_state.rs) instead of a
-- row written at the CTA. What the database keeps is the hash of every state a callback
-- used, until a day past its expiry: the single-use check, and a replay told apart from a
-- made-up state. Flows in progress at the upgrade are lost (their callback says
-- state_unknown; starting again works).
DROP TABLE sso_flows;

CREATE TABLE sso_used_states (
    -- The flow's own expiry first: inserts land at the end of the key, the sweep deletes
    -- from its start, and the callback, which knows both, finds a row in one look-up.
    expires_at  BIGINT NOT NULL,
    state_hash  TEXT NOT NULL,
    PRIMARY KEY (expires_at, state_hash)
) WITHOUT ROWID;

-- A sign-in records its state used in the same statement (0010, 0015): one write per
-- callback, and of two callbacks with one state only one signs in.
DROP TRIGGER sign_ins_write;
DROP VIEW sign_ins;

CREATE VIEW sign_ins AS SELECT
    NULL AS new_user_id, NULL AS app_id, NULL AS issuer, NULL AS subject, NULL AS email, NULL AS email_key,
    NULL AS phone_number, NULL AS phone_key, NULL AS given_name, NULL AS family_name,
    -- NULL while the person chooses among several accounts: no membership yet.
    NULL AS account_id, NULL AS role, NULL AS source,
    NULL AS session_id_hash, NULL AS csrf_token, NULL AS logout_hint_sealed, NULL AS sign_out_origins,
    NULL AS reachable_accounts, NULL AS expires_at, NULL AS idm_sid, NULL AS authenticated_at,
    NULL AS event_id, NULL AS event_detail, NULL AS correlation_id, NULL AS signed_in_at,
    NULL AS state_hash, NULL AS state_expires_at;

CREATE TRIGGER sign_ins_write INSTEAD OF INSERT ON sign_ins
BEGIN
    -- First: a state used before aborts the statement, and nothing below is written.
    INSERT INTO sso_used_states (expires_at, state_hash) VALUES (NEW.state_expires_at, NEW.state_hash);

    INSERT INTO merchant_users (id, app_id, issuer, subject, email, email_key, phone_number, phone_key, given_name, family_name,
        created_at, updated_at)
    VALUES (NEW.new_user_id, NEW.app_id, NEW.issuer, NEW.subject, NEW.email, NEW.email_key, NEW.phone_number, NEW.phone_key,
        NEW.given_name, NEW.family_name, NEW.signed_in_at, NEW.signed_in_at)
    -- A returning user's unchanged profile is not rewritten (nor are its indexes).
    ON CONFLICT (app_id, issuer, subject) DO UPDATE SET email = excluded.email, email_key = excluded.email_key,
        phone_number = excluded.phone_number, phone_key = excluded.phone_key, given_name = excluded.given_name,
        family_name = excluded.family_name, updated_at = excluded.updated_at
    WHERE email IS NOT excluded.email OR email_key IS NOT excluded.email_key OR phone_number IS NOT excluded.phone_number
        OR phone_key IS NOT excluded.phone_key OR given_name IS NOT excluded.given_name OR family_name IS NOT excluded.family_name;

    INSERT INTO account_memberships (user_id, account_id, role, source, first_sign_in_at, last_sign_in_at)
    SELECT u.id, NEW.account_id, NEW.role, NEW.source, NEW.signed_in_at, NEW.signed_in_at
    FROM merchant_users u
    WHERE u.app_id = NEW.app_id AND u.issuer = NEW.issuer AND u.subject = NEW.subject AND NEW.account_id IS NOT NULL
    ON CONFLICT (user_id, account_id) DO UPDATE SET role = excluded.role, source = excluded.source,
        last_sign_in_at = excluded.last_sign_in_at;

    INSERT INTO merchant_sessions (id_hash, app_id, user_id, account_id, role, csrf_token, logout_hint_sealed, created_at,
        last_seen_at, expires_at, sign_out_origins, reachable_accounts, idm_sid, authenticated_at)
    SELECT NEW.session_id_hash, NEW.app_id, u.id, NEW.account_id, NEW.role, NEW.csrf_token, NEW.logout_hint_sealed,
        NEW.signed_in_at, NEW.signed_in_at, NEW.expires_at, NEW.sign_out_origins, NEW.reachable_accounts, NEW.idm_sid, NEW.authenticated_at
    FROM merchant_users u
    WHERE u.app_id = NEW.app_id AND u.issuer = NEW.issuer AND u.subject = NEW.subject;

    INSERT INTO sso_events (id, app_id, occurred_at, outcome, error_code, detail, correlation_id)
    VALUES (NEW.event_id, NEW.app_id, NEW.signed_in_at, 'succeeded', NULL, NEW.event_detail, NEW.correlation_id);
END;
