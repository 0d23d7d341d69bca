-- Every kind of partner IdM: a connector's private login state, verified identity keys,
-- access grants, and sessions that wait for the person to choose an account.

-- A login flow keeps its connector's private state (for OIDC the nonce and the PKCE
-- verifier) as one sealed value. Flows live ten minutes; those in flight while this runs
-- are dropped, and their browsers start again from the CTA.
DROP TABLE sso_flows;
CREATE TABLE sso_flows (
    state_hash          TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps (id),
    browser_hash        TEXT NOT NULL,
    -- The IdM configuration version the flow started with: the callback finishes with it.
    config_version      BIGINT NOT NULL,
    private_sealed      TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    used_at             BIGINT
);
CREATE INDEX sso_flows_expiry ON sso_flows (expires_at);

-- What the access rules compare, computed by Causeway: the controller's e-mail in lower case.
ALTER TABLE legal_entities ADD COLUMN controller_email_key TEXT NOT NULL DEFAULT '';
UPDATE legal_entities SET controller_email_key = lower(controller_email);
CREATE INDEX legal_entities_controller ON legal_entities (app_id, controller_email_key);

-- A user's e-mail ('' when the IdM sends none) and phone number as the IdM sent them, and
-- the keys grants match: the lower-case e-mail and the E.164 number, only when verified.
-- Users signed in before this were all verified by the old rule.
ALTER TABLE merchant_users ADD COLUMN email_key TEXT;
ALTER TABLE merchant_users ADD COLUMN phone_number TEXT;
ALTER TABLE merchant_users ADD COLUMN phone_key TEXT;
UPDATE merchant_users SET email_key = lower(email);
CREATE INDEX merchant_users_email_key ON merchant_users (app_id, email_key);
CREATE INDEX merchant_users_phone_key ON merchant_users (app_id, phone_key);
CREATE INDEX merchant_users_subject ON merchant_users (app_id, subject);

-- Where a person's access to an account came from: the account claim, a grant, or being
-- the legal entity's controller.
ALTER TABLE account_memberships ADD COLUMN source TEXT NOT NULL DEFAULT 'claim';

-- Access granted by the partner to people its IdM cannot name an account for.
CREATE TABLE account_grants (
    id                  TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps (id),
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    legal_entity_id     TEXT NOT NULL REFERENCES legal_entities (id),
    matcher_kind        TEXT NOT NULL CHECK (matcher_kind IN ('email', 'phone_number', 'idm_subject')),
    -- Normalized: a lower-case e-mail, an E.164 number, or the subject exactly.
    matcher_value       TEXT NOT NULL,
    -- As the partner sent it (an e-mail keeps its case).
    display_value       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('financial_admin', 'moderator')),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (account_id, matcher_kind, matcher_value)
);
CREATE INDEX account_grants_match ON account_grants (app_id, matcher_kind, matcher_value);
-- The financial-admin grant names the controller at the IdM: one per legal entity.
CREATE UNIQUE INDEX account_grants_one_admin ON account_grants (legal_entity_id) WHERE role = 'financial_admin';

-- A replayed idempotent request answers with the first one's status (201 created, 200 updated).
ALTER TABLE idempotency_keys ADD COLUMN replay_status BIGINT;

-- A session waits without an account (and role) while its person chooses one; the IdM's
-- sign-out hint (the ID token, sealed) is absent for kinds that have none.
CREATE TABLE merchant_sessions_new (
    id_hash             TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps (id),
    user_id             TEXT NOT NULL REFERENCES merchant_users (id),
    account_id          TEXT REFERENCES accounts (id),
    role                TEXT,
    csrf_token          TEXT NOT NULL,
    logout_hint_sealed  TEXT,
    created_at          BIGINT NOT NULL,
    last_seen_at        BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    sign_out_origins    TEXT NOT NULL DEFAULT '',
    -- How many accounts the person reached at sign-in: more than one offers a switch.
    reachable_accounts  BIGINT NOT NULL DEFAULT 1
);
INSERT INTO merchant_sessions_new (id_hash, app_id, user_id, account_id, role, csrf_token, logout_hint_sealed, created_at,
    last_seen_at, expires_at, sign_out_origins)
SELECT id_hash, app_id, user_id, account_id, role, csrf_token, id_token_sealed, created_at, last_seen_at, expires_at, sign_out_origins
FROM merchant_sessions;
DROP TABLE merchant_sessions;
ALTER TABLE merchant_sessions_new RENAME TO merchant_sessions;
CREATE INDEX merchant_sessions_expiry ON merchant_sessions (expires_at);
CREATE INDEX merchant_sessions_account ON merchant_sessions (account_id);
CREATE INDEX merchant_sessions_user ON merchant_sessions (user_id);
