-- IdM configuration history (the newest version is the current one), branding and the
-- SSO event log of each partner app.

CREATE TABLE idm_config_versions (
    app_id                  TEXT NOT NULL REFERENCES apps (id),
    version                 BIGINT NOT NULL,
    -- The non-secret fields as JSON text; the client secret is sealed apart.
    config_json             TEXT NOT NULL,
    client_secret_sealed    TEXT,
    secret_changed          BIGINT NOT NULL,
    changed_by              TEXT NOT NULL,
    changed_at              BIGINT NOT NULL,
    PRIMARY KEY (app_id, version)
);

CREATE TABLE brandings (
    app_id          TEXT PRIMARY KEY REFERENCES apps (id),
    display_name    TEXT NOT NULL,
    logo_url        TEXT,
    brand_color     TEXT NOT NULL,
    support_label   TEXT,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE sso_events (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps (id),
    occurred_at     BIGINT NOT NULL,
    outcome         TEXT NOT NULL,
    error_code      TEXT,
    detail          TEXT NOT NULL,
    correlation_id  TEXT NOT NULL
);
CREATE INDEX sso_events_app_time ON sso_events (app_id, occurred_at);
