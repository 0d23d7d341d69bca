-- A successful sign-in's writes — the user as the IdM vouched for them, their sign-in on
-- the account, the Merchant Center session, the partner's event — in one statement: one
-- round trip to the database, and atomic (a trigger runs inside its statement's
-- transaction). `INSERT INTO sign_ins` is the only way in; the view holds no rows.
-- The SQLite version of this file does the same with an SQL trigger.
CREATE VIEW sign_ins AS SELECT
    NULL::TEXT AS new_user_id, NULL::TEXT AS app_id, NULL::TEXT AS issuer, NULL::TEXT AS subject, NULL::TEXT AS email,
    NULL::TEXT AS email_key, NULL::TEXT AS phone_number, NULL::TEXT AS phone_key, NULL::TEXT AS given_name,
    NULL::TEXT AS family_name,
    -- NULL while the person chooses among several accounts: no membership yet.
    NULL::TEXT AS account_id, NULL::TEXT AS role, NULL::TEXT AS source,
    NULL::TEXT AS session_id_hash, NULL::TEXT AS csrf_token, NULL::TEXT AS logout_hint_sealed, NULL::TEXT AS sign_out_origins,
    NULL::BIGINT AS reachable_accounts, NULL::BIGINT AS expires_at,
    NULL::TEXT AS event_id, NULL::TEXT AS event_detail, NULL::TEXT AS correlation_id, NULL::BIGINT AS signed_in_at;

CREATE FUNCTION sign_ins_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    signed_in_user TEXT;
BEGIN
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
        last_seen_at, expires_at, sign_out_origins, reachable_accounts)
    VALUES (NEW.session_id_hash, NEW.app_id, signed_in_user, NEW.account_id, NEW.role, NEW.csrf_token, NEW.logout_hint_sealed,
        NEW.signed_in_at, NEW.signed_in_at, NEW.expires_at, NEW.sign_out_origins, NEW.reachable_accounts);

    INSERT INTO sso_events (id, app_id, occurred_at, outcome, error_code, detail, correlation_id)
    VALUES (NEW.event_id, NEW.app_id, NEW.signed_in_at, 'succeeded', NULL, NEW.event_detail, NEW.correlation_id);
    RETURN NEW;
END;
$$;

CREATE TRIGGER sign_ins_write INSTEAD OF INSERT ON sign_ins FOR EACH ROW EXECUTE FUNCTION sign_ins_write();
