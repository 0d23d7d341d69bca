-- Partner Center sign-in sessions, kept server-side so several replicas share them and a
-- session can be ended at once (sign-out, suspended app, rotated token).

CREATE TABLE partner_sessions (
    -- SHA-256 of the session id in the cookie: a database leak yields no usable cookie.
    id_hash             TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    -- Per-session CSRF token, echoed in every form (not a credential on its own).
    csrf_token          TEXT NOT NULL,
    -- SHA-256 of the app token hash used to sign in: rotating the token ends the session.
    token_fingerprint   TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    last_seen_at        BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL
);
CREATE INDEX partner_sessions_app ON partner_sessions (app_id);
CREATE INDEX partner_sessions_expiry ON partner_sessions (expires_at);
