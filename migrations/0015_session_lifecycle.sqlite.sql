-- Session lifecycle (issue 13): sessions remember the IdM's session (`sid`, for
-- back-channel logout) and when the person last proved who they are (`auth_time`, for
-- step-up); logout tokens' `jti`s are kept until they could no longer be valid; deep links
-- are single-use rows found by their token's hash.
ALTER TABLE merchant_sessions ADD COLUMN idm_sid TEXT;
-- NULL on sessions opened before this migration: their created_at is that time.
ALTER TABLE merchant_sessions ADD COLUMN authenticated_at BIGINT;
CREATE INDEX merchant_sessions_idm_sid ON merchant_sessions (app_id, idm_sid);

-- OpenID Connect Back-Channel Logout 1.0 §2.6 step 10: a `jti` is used once.
CREATE TABLE logout_token_uses (
    app_id      TEXT NOT NULL REFERENCES apps (id),
    jti_hash    TEXT NOT NULL,
    -- After this the token's `iat` is too old to be accepted again anyway.
    keep_until  BIGINT NOT NULL,
    PRIMARY KEY (app_id, jti_hash)
);
CREATE INDEX logout_token_uses_keep_until ON logout_token_uses (keep_until);

CREATE TABLE account_links (
    token_hash  TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps (id),
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    target      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX account_links_expiry ON account_links (expires_at);

-- The one-write sign-in (0010) is rebuilt to carry the two new session columns.
DROP TRIGGER sign_ins_write;
DROP VIEW sign_ins;

CREATE VIEW sign_ins AS SELECT
    NULL AS new_user_id, NULL AS app_id, NULL AS issuer, NULL AS subject, NULL AS email, NULL AS email_key,
    NULL AS phone_number, NULL AS phone_key, NULL AS given_name, NULL AS family_name,
    -- NULL while the person chooses among several accounts: no membership yet.
    NULL AS account_id, NULL AS role, NULL AS source,
    NULL AS session_id_hash, NULL AS csrf_token, NULL AS logout_hint_sealed, NULL AS sign_out_origins,
    NULL AS reachable_accounts, NULL AS expires_at, NULL AS idm_sid, NULL AS authenticated_at,
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
        last_seen_at, expires_at, sign_out_origins, reachable_accounts, idm_sid, authenticated_at)
    SELECT NEW.session_id_hash, NEW.app_id, u.id, NEW.account_id, NEW.role, NEW.csrf_token, NEW.logout_hint_sealed,
        NEW.signed_in_at, NEW.signed_in_at, NEW.expires_at, NEW.sign_out_origins, NEW.reachable_accounts, NEW.idm_sid, NEW.authenticated_at
    FROM merchant_users u
    WHERE u.app_id = NEW.app_id AND u.issuer = NEW.issuer AND u.subject = NEW.subject;

    INSERT INTO sso_events (id, app_id, occurred_at, outcome, error_code, detail, correlation_id)
    VALUES (NEW.event_id, NEW.app_id, NEW.signed_in_at, 'succeeded', NULL, NEW.event_detail, NEW.correlation_id);
END;
