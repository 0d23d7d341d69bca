-- Merchant users as partner IdMs vouch for them, their access to accounts, and their
-- Merchant Center sessions.

CREATE TABLE merchant_users (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps (id),
    -- Identities are keyed by (app, iss, sub): subjects may be pairwise, and an e-mail
    -- address never links users across apps.
    issuer          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    email           TEXT NOT NULL,
    given_name      TEXT NOT NULL,
    family_name     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (app_id, issuer, subject)
);

CREATE TABLE account_memberships (
    user_id             TEXT NOT NULL REFERENCES merchant_users (id),
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    role                TEXT NOT NULL CHECK (role IN ('financial_admin', 'moderator')),
    first_sign_in_at    BIGINT NOT NULL,
    last_sign_in_at     BIGINT NOT NULL,
    PRIMARY KEY (user_id, account_id)
);
CREATE INDEX account_memberships_account ON account_memberships (account_id);

CREATE TABLE merchant_sessions (
    id_hash             TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps (id),
    user_id             TEXT NOT NULL REFERENCES merchant_users (id),
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    role                TEXT NOT NULL,
    csrf_token          TEXT NOT NULL,
    -- The ID token, sealed: only sent back to the IdM as id_token_hint at logout.
    id_token_sealed     TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    last_seen_at        BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL
);
CREATE INDEX merchant_sessions_expiry ON merchant_sessions (expires_at);
