-- Sign-in health per app and hour: counters that replicas add to (every few seconds, from
-- memory: the sign-in path itself writes nothing here). `metric` is started, succeeded,
-- failed, callback_ms, token_ms or clock_offset; `label` an error code or a bucket bound.
CREATE TABLE health_counts (
    app_id              TEXT NOT NULL,
    hour                BIGINT NOT NULL,
    metric              TEXT NOT NULL,
    label               TEXT NOT NULL,
    n                   BIGINT NOT NULL,
    PRIMARY KEY (app_id, hour, metric, label)
);
CREATE INDEX health_counts_hour ON health_counts (hour);
