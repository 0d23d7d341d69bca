-- A login's flow travels sealed in its `state` (src/services/login_state.rs) instead of a
-- row written at the CTA. What the database keeps is the hash of every state a callback
-- used, until a day past its expiry: the single-use check, and a replay told apart from a
-- made-up state. Flows in progress at the upgrade are lost (their callback says
-- state_unknown; starting again works).
DROP TABLE sso_flows;

CREATE TABLE sso_used_states (
    -- The flow's own expiry first: the sweep deletes from the start of the key, and the
    -- callback, which knows both, finds a row in one look-up.
    expires_at  BIGINT NOT NULL,
    state_hash  TEXT NOT NULL,
    PRIMARY KEY (expires_at, state_hash)
);

-- A sign-in records its state used in the same statement (0010, 0015): one write per
-- callback, and of two callbacks with one state only one signs in.
DROP TRIGGER sign_ins_write ON sign_ins;
DROP VIEW sign_ins;

CREATE VIEW sign_ins AS SELECT
    NULL::TEXT AS new_user_id, NULL::TEXT AS app_id, NULL::TEXT AS issuer, NULL::TEXT AS subject, NULL::TEXT AS email,
    NULL::TEXT AS email_key, NULL::TEXT AS phone_number, NULL::TEXT AS phone_key, NULL::TEXT AS given_name,
    NULL::TEXT AS family_name,
    -- NULL while the person chooses among several accounts: no membership yet.
    NULL::TEXT AS account_id, NULL::TEXT AS role, NULL::TEXT AS source,
    NULL::TEXT AS session_id_hash, NULL::TEXT AS csrf_token, NULL::TEXT AS logout_hint_sealed, NULL::TEXT AS sign_out_origins,
    NULL::BIGINT AS reachable_accounts, NULL::BIGINT AS expires_at, NULL::TEXT AS idm_sid, NULL::BIGINT AS authenticated_at,
    NULL::TEXT AS event_id, NULL::TEXT AS event_detail, NULL::TEXT AS correlation_id, NULL::BIGINT AS signed_in_at,
    NULL::TEXT AS state_hash, NULL::BIGINT AS state_expires_at;

CREATE OR REPLACE FUNCTION sign_ins_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    signed_in_user TEXT;
BEGIN
    -- First: a state used before (or being used by a transaction in flight) raises a
    -- unique violation, and nothing below is written.
    INSERT INTO sso_used_states (expires_at, state_hash) VALUES (NEW.state_expires_at, NEW.state_hash);

    INSERT INTO merchant_users (id, app_id, issuer, subject, email, email_key, phone_number, phone_key, given_name, family_name,
        created_at, updated_at)
    VALUES (NEW.new_user_id, NEW.app_id, NEW.issuer, NEW.subject, NEW.email, NEW.email_key, NEW.phone_number, NEW.phone_key,
        NEW.given_name, NEW.family_name, NEW.signed_in_at, NEW.signed_in_at)
    -- A returning user's unchanged profile is not rewritten (nor are its indexes); then
    -- nothing is returned, and the id is read.
    ON CONFLICT (app_id, issuer, subject) DO UPDATE SET email = excluded.email, email_key = excluded.email_key,
        phone_number = excluded.phone_number, phone_key = excluded.phone_key, given_name = excluded.given_name,
        family_name = excluded.family_name, updated_at = excluded.updated_at
    WHERE merchant_users.email IS DISTINCT FROM excluded.email OR merchant_users.email_key IS DISTINCT FROM excluded.email_key
        OR merchant_users.phone_number IS DISTINCT FROM excluded.phone_number OR merchant_users.phone_key IS DISTINCT FROM excluded.phone_key
        OR merchant_users.given_name IS DISTINCT FROM excluded.given_name OR merchant_users.family_name IS DISTINCT FROM excluded.family_name
    RETURNING id INTO signed_in_user;
    IF signed_in_user IS NULL THEN
        SELECT id INTO signed_in_user FROM merchant_users WHERE app_id = NEW.app_id AND issuer = NEW.issuer AND subject = NEW.subject;
    END IF;

    IF NEW.account_id IS NOT NULL THEN
        INSERT INTO account_memberships (user_id, account_id, role, source, first_sign_in_at, last_sign_in_at)
        VALUES (signed_in_user, NEW.account_id, NEW.role, NEW.source, NEW.signed_in_at, NEW.signed_in_at)
        ON CONFLICT (user_id, account_id) DO UPDATE SET role = excluded.role, source = excluded.source,
            last_sign_in_at = excluded.last_sign_in_at;
    END IF;

    INSERT INTO merchant_sessions (id_hash, app_id, user_id, account_id, role, csrf_token, logout_hint_sealed, created_at,
        last_seen_at, expires_at, sign_out_origins, reachable_accounts, idm_sid, authenticated_at)
    VALUES (NEW.session_id_hash, NEW.app_id, signed_in_user, NEW.account_id, NEW.role, NEW.csrf_token, NEW.logout_hint_sealed,
        NEW.signed_in_at, NEW.signed_in_at, NEW.expires_at, NEW.sign_out_origins, NEW.reachable_accounts, NEW.idm_sid, NEW.authenticated_at);

    INSERT INTO sso_events (id, app_id, occurred_at, outcome, error_code, detail, correlation_id)
    VALUES (NEW.event_id, NEW.app_id, NEW.signed_in_at, 'succeeded', NULL, NEW.event_detail, NEW.correlation_id);
    RETURN NEW;
END;
$$;

CREATE TRIGGER sign_ins_write INSTEAD OF INSERT ON sign_ins FOR EACH ROW EXECUTE FUNCTION sign_ins_write();
