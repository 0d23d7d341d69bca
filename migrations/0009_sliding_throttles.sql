-- The sign-in counters estimate a sliding window from the current and the previous fixed
-- window (a fixed window alone lets a burst straddle its boundary, twice the budget).
ALTER TABLE throttle_windows ADD COLUMN previous_hits BIGINT NOT NULL DEFAULT 0;
