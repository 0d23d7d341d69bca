-- Login flows between the CTA and the callback. Keyed by a hash of `state`, so the
-- table never holds a value an attacker could replay; a used flow keeps a tombstone
-- (used_at) until it is swept, so a replayed state is told apart from an unknown one.

CREATE TABLE sso_flows (
    state_hash          TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps (id),
    -- Hash of the browser-binding cookie of the browser that started the flow.
    browser_hash        TEXT NOT NULL,
    nonce               TEXT NOT NULL,
    -- The PKCE verifier, sealed with the master key.
    verifier_sealed     TEXT NOT NULL,
    -- The IdM configuration version the flow started with.
    config_version      BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    used_at             BIGINT
);
CREATE INDEX sso_flows_expiry ON sso_flows (expires_at);
