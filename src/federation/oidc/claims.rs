//! Every rule an ID token's claims must pass (OIDC Core §3.1.3.7 and the contract), each
//! failing with its own code. Runs on the payload only after its signature verified.

use serde_json::Value;

use crate::domain::sso_error::SsoError;

/// What the claims are checked against.
pub struct ClaimRules<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// `https://{domain}/wepay_account_id`
    pub account_claim: &'a str,
    pub now: i64,
    pub leeway_seconds: i64,
}

/// The user as the partner's IdM vouches for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FederatedIdentity {
    pub issuer: String,
    /// Possibly pairwise: unique per (IdM, client), so identities are keyed by (app, iss, sub).
    pub subject: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    /// The account the token names; whether it belongs to the app is checked by provisioning.
    pub account_id: String,
}

fn required_text(payload: &Value, name: &str) -> Result<String, SsoError> {
    match payload.get(name).and_then(Value::as_str) {
        Some(text) if !text.trim().is_empty() => Ok(text.to_owned()),
        _ => Err(SsoError::ClaimMissing(name.to_owned())),
    }
}

fn required_time(payload: &Value, name: &str) -> Result<i64, SsoError> {
    // NumericDate may carry a fraction (RFC 7519 §2); whole seconds are enough here.
    payload.get(name).and_then(Value::as_f64).map(|t| t as i64).ok_or_else(|| SsoError::ClaimMissing(name.to_owned()))
}

pub fn check(payload: &Value, rules: &ClaimRules<'_>) -> Result<FederatedIdentity, SsoError> {
    if !payload.is_object() {
        return Err(SsoError::IdTokenMalformed);
    }
    let issuer = required_text(payload, "iss")?;
    if issuer != rules.issuer {
        return Err(SsoError::IssMismatch);
    }
    let audiences: Vec<&str> = match payload.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => return Err(SsoError::ClaimMissing("aud".into())),
    };
    if !audiences.contains(&rules.client_id) {
        return Err(SsoError::AudMismatch);
    }
    // With other audiences beside us, azp must say the token was issued to us.
    match payload.get("azp").and_then(Value::as_str) {
        Some(azp) if azp != rules.client_id => return Err(SsoError::AzpMismatch),
        None if audiences.len() > 1 => return Err(SsoError::AzpMismatch),
        _ => {}
    }
    if required_time(payload, "exp")? + rules.leeway_seconds <= rules.now {
        return Err(SsoError::TokenExpired);
    }
    if required_time(payload, "iat")? > rules.now + rules.leeway_seconds {
        return Err(SsoError::IatInFuture);
    }
    if payload.get("nonce").and_then(Value::as_str) != Some(rules.nonce) {
        return Err(SsoError::NonceMismatch);
    }
    let subject = required_text(payload, "sub")?;
    // Only the JSON boolean true counts: "true" as a string is a misconfigured IdM.
    if payload.get("email_verified") != Some(&Value::Bool(true)) {
        return Err(SsoError::EmailUnverified);
    }
    Ok(FederatedIdentity {
        issuer,
        subject,
        email: required_text(payload, "email")?,
        given_name: required_text(payload, "given_name")?,
        family_name: required_text(payload, "family_name")?,
        account_id: required_text(payload, rules.account_claim)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const CLAIM: &str = "https://partner.example/wepay_account_id";

    fn rules() -> ClaimRules<'static> {
        ClaimRules { issuer: "https://idm.partner.example", client_id: "causeway", nonce: "n-1", account_claim: CLAIM, now: NOW, leeway_seconds: 60 }
    }

    fn good() -> Value {
        json!({
            "iss": "https://idm.partner.example", "aud": "causeway", "sub": "pairwise-123",
            "exp": NOW + 300, "iat": NOW - 5, "nonce": "n-1",
            "email": "owner@shop.example", "email_verified": true, "given_name": "Ada", "family_name": "Lovelace",
            CLAIM: "0b8a2f5e-1c7d-4e0a-9c61-2d5b7e8f9a10"
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut p = good();
        p[field] = value;
        p
    }

    fn without(field: &str) -> Value {
        let mut p = good();
        p.as_object_mut().unwrap().remove(field);
        p
    }

    #[test]
    fn a_good_token_yields_the_identity() {
        let id = check(&good(), &rules()).unwrap();
        assert_eq!(id.subject, "pairwise-123");
        assert_eq!(id.account_id, "0b8a2f5e-1c7d-4e0a-9c61-2d5b7e8f9a10");
        // Several audiences are fine when azp names us.
        let mut multi = with("aud", json!(["causeway", "other-api"]));
        multi["azp"] = json!("causeway");
        assert!(check(&multi, &rules()).is_ok());
        // Within the leeway.
        assert!(check(&with("exp", json!(NOW - 30)), &rules()).is_ok());
        assert!(check(&with("iat", json!(NOW + 30)), &rules()).is_ok());
    }

    #[test]
    fn every_rule_has_its_own_code() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("wrong iss", with("iss", json!("https://idm.partner.example/")), "iss_mismatch"),
            ("missing iss", without("iss"), "claim_missing:iss"),
            ("wrong aud", with("aud", json!("someone-else")), "aud_mismatch"),
            ("aud list without us", with("aud", json!(["a", "b"])), "aud_mismatch"),
            ("missing aud", without("aud"), "claim_missing:aud"),
            ("several aud without azp", with("aud", json!(["causeway", "other"])), "azp_mismatch"),
            ("wrong azp", with("azp", json!("other")), "azp_mismatch"),
            ("expired", with("exp", json!(NOW - 61)), "token_expired"),
            ("missing exp", without("exp"), "claim_missing:exp"),
            ("issued in the future", with("iat", json!(NOW + 61)), "iat_in_future"),
            ("missing iat", without("iat"), "claim_missing:iat"),
            ("wrong nonce", with("nonce", json!("n-2")), "nonce_mismatch"),
            ("missing nonce", without("nonce"), "nonce_mismatch"),
            ("missing sub", without("sub"), "claim_missing:sub"),
            ("empty sub", with("sub", json!("")), "claim_missing:sub"),
            ("unverified", with("email_verified", json!(false)), "email_unverified"),
            ("verified as a string", with("email_verified", json!("true")), "email_unverified"),
            ("verified missing", without("email_verified"), "email_unverified"),
            ("missing email", without("email"), "claim_missing:email"),
            ("missing given name", without("given_name"), "claim_missing:given_name"),
            ("missing family name", without("family_name"), "claim_missing:family_name"),
            ("missing account claim", without(CLAIM), "claim_missing:https://partner.example/wepay_account_id"),
            ("account claim of another domain", {
                let mut p = without(CLAIM);
                p["https://other.example/wepay_account_id"] = json!("0b8a2f5e-1c7d-4e0a-9c61-2d5b7e8f9a10");
                p
            }, "claim_missing:https://partner.example/wepay_account_id"),
            ("not an object", json!(["x"]), "id_token_malformed"),
        ];
        for (name, payload, code) in cases {
            assert_eq!(check(&payload, &rules()).unwrap_err().code(), code, "{name}");
        }
    }
}
