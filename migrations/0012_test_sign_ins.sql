-- Test sign-ins (go-live): one row from the partner's start to its report, kept 24 h.
CREATE TABLE test_sign_ins (
    id                  TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL,
    -- pending | passed | failed
    status              TEXT NOT NULL,
    report_json         TEXT,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL
);
CREATE INDEX test_sign_ins_expiry ON test_sign_ins (expires_at);
