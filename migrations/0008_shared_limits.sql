-- Limits every replica on one database shares.

-- Fixed-window counters: failed Partner Center sign-ins per (app, client address) and per
-- client address.
CREATE TABLE throttle_windows (
    throttle_key        TEXT PRIMARY KEY,
    window_start        BIGINT NOT NULL,
    hits                BIGINT NOT NULL
);
CREATE INDEX throttle_windows_start ON throttle_windows (window_start);

-- Replicas announce themselves, so that each enforces its share of the API and sign-in quotas.
CREATE TABLE replicas (
    id                  TEXT PRIMARY KEY,
    seen_at             BIGINT NOT NULL
);
