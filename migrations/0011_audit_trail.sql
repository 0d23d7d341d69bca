-- The append-only audit trail: one hash chain per app (and one, "operator", for actions on
-- no app such as a master-key rotation). `seq` counts from 1 in each chain; the primary key
-- makes two concurrent appends of the same number impossible, so a chain cannot fork.
CREATE TABLE audit_events (
    chain               TEXT NOT NULL,
    seq                 BIGINT NOT NULL,
    occurred_at         BIGINT NOT NULL,
    actor               TEXT NOT NULL,
    action              TEXT NOT NULL,
    target              TEXT NOT NULL,
    detail              TEXT NOT NULL,
    prev_hash           TEXT NOT NULL,
    hash                TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
