-- What a financial admin keeps on file in the Merchant Center: the business's KYC details
-- and the bank account payouts go to. The tax id and the bank numbers are sealed with the
-- master key; only their last four digits are stored in clear, for display.

CREATE TABLE kyc_profiles (
    account_id          TEXT PRIMARY KEY REFERENCES accounts (id),
    legal_name          TEXT NOT NULL,
    address_line1       TEXT NOT NULL,
    address_line2       TEXT NOT NULL,
    city                TEXT NOT NULL,
    region              TEXT NOT NULL,
    postal_code         TEXT NOT NULL,
    business_type       TEXT NOT NULL,
    tax_id_sealed       TEXT NOT NULL,
    tax_id_last4        TEXT NOT NULL,
    representative_dob  TEXT NOT NULL,
    submitted_by        TEXT NOT NULL REFERENCES merchant_users (id),
    submitted_at        BIGINT NOT NULL
);

CREATE TABLE payout_methods (
    account_id          TEXT PRIMARY KEY REFERENCES accounts (id),
    account_holder      TEXT NOT NULL,
    -- {"routing_number": …, "account_number": …}, sealed and bound to the account.
    bank_sealed         TEXT NOT NULL,
    routing_last4       TEXT NOT NULL,
    account_last4       TEXT NOT NULL,
    updated_by          TEXT NOT NULL REFERENCES merchant_users (id),
    updated_at          BIGINT NOT NULL
);

-- Where the sign-out form may lead (the IdM's end-session endpoint, the partner's logout
-- page), as origins for the pages' CSP form-action: browsers check every redirect of a
-- form submission against it.
ALTER TABLE merchant_sessions ADD COLUMN sign_out_origins TEXT NOT NULL DEFAULT '';
