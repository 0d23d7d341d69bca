-- Partner apps, onboarding objects and idempotency records.
-- Types are limited to what sqlx's Any driver decodes: TEXT ids, BIGINT Unix seconds.

CREATE TABLE apps (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    token_hash          TEXT NOT NULL,
    token_prefix        TEXT NOT NULL,
    token_created_at    BIGINT NOT NULL,
    token_last_used_at  BIGINT,
    created_at          BIGINT NOT NULL
);

CREATE TABLE legal_entities (
    id                          TEXT PRIMARY KEY,
    app_id                      TEXT NOT NULL REFERENCES apps (id),
    country                     TEXT NOT NULL,
    controller_email            TEXT NOT NULL,
    controller_email_verified   BIGINT NOT NULL,
    tos_acceptance_time         BIGINT,
    tos_original_ip             TEXT,
    created_at                  BIGINT NOT NULL
);
CREATE INDEX legal_entities_app ON legal_entities (app_id);

CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps (id),
    legal_entity_id     TEXT NOT NULL REFERENCES legal_entities (id),
    name                TEXT NOT NULL,
    description         TEXT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX accounts_app ON accounts (app_id);
CREATE INDEX accounts_legal_entity ON accounts (legal_entity_id);

CREATE TABLE idempotency_keys (
    app_id          TEXT NOT NULL REFERENCES apps (id),
    idem_key        TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (app_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
