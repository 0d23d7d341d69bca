-- A successful sign-in's writes — the user as the IdM vouched for them, their sign-in on
-- the account, the Merchant Center session, the partner's event — in one statement: one
-- round trip to the database, and atomic (a trigger runs inside its statement's
-- transaction). `INSERT INTO sign_ins` is the only way in; the view holds no rows.
-- The PostgreSQL version of this file does the same with a PL/pgSQL trigger.
CREATE VIEW sign_ins AS SELECT
    NULL AS new_user_id, NULL AS app_id, NULL AS issuer, NULL AS subject, NULL AS email, NULL AS email_key,
    NULL AS phone_number, NULL AS phone_key, NULL AS given_name, NULL AS family_name,
    -- NULL while the person chooses among several accounts: no membership yet.
    NULL AS account_id, NULL AS role, NULL AS source,
    NULL AS session_id_hash, NULL AS csrf_token, NULL AS logout_hint_sealed, NULL AS sign_out_origins,
    NULL AS reachable_accounts, NULL AS expires_at,
    NULL AS event_id, NULL AS event_detail, NULL AS correlation_id, NULL AS signed_in_at;

CREATE TRIGGER sign_ins_write INSTEAD OF INSERT ON sign_ins
BEGIN
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
        last_seen_at, expires_at, sign_out_origins, reachable_accounts)
    SELECT NEW.session_id_hash, NEW.app_id, u.id, NEW.account_id, NEW.role, NEW.csrf_token, NEW.logout_hint_sealed,
        NEW.signed_in_at, NEW.signed_in_at, NEW.expires_at, NEW.sign_out_origins, NEW.reachable_accounts
    FROM merchant_users u
    WHERE u.app_id = NEW.app_id AND u.issuer = NEW.issuer AND u.subject = NEW.subject;

    INSERT INTO sso_events (id, app_id, occurred_at, outcome, error_code, detail, correlation_id)
    VALUES (NEW.event_id, NEW.app_id, NEW.signed_in_at, 'succeeded', NULL, NEW.event_detail, NEW.correlation_id);
END;
