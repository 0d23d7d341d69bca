-- The IdM monitor: what it last saw of each app's IdM (so that one replica of many checks
-- each app per period: the row is its lease), and the notices it recorded.
CREATE TABLE idm_monitor (
    app_id              TEXT PRIMARY KEY,
    config_version      BIGINT NOT NULL,
    checked_at          BIGINT NOT NULL,
    snapshot_json       TEXT
);

CREATE TABLE idm_notices (
    id                  TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL,
    occurred_at         BIGINT NOT NULL,
    kind                TEXT NOT NULL,
    detail              TEXT NOT NULL
);
CREATE INDEX idm_notices_app ON idm_notices (app_id, occurred_at);
