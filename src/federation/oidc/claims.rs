//! The protocol rules of an ID token's claims (OIDC Core §3.1.3.7), each failing with its
//! own error. Runs on the payload only after its signature verified. What the product
//! needs beyond them (verified e-mail, names, the account) is `domain::identity`'s.

use serde_json::{Map, Value};

use crate::federation::connector::FederationError;

/// What the claims are checked against.
pub struct ClaimRules<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: i64,
    pub leeway_seconds: i64,
}

/// An ID token's claims that passed every protocol rule.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedClaims {
    pub issuer: String,
    pub subject: String,
    pub claims: Map<String, Value>,
}

fn required_text(payload: &Map<String, Value>, name: &str) -> Result<String, FederationError> {
    match payload.get(name).and_then(Value::as_str) {
        Some(text) if !text.trim().is_empty() => Ok(text.to_owned()),
        _ => Err(FederationError::ClaimMissing(name.to_owned())),
    }
}

fn required_time(payload: &Map<String, Value>, name: &str) -> Result<i64, FederationError> {
    // NumericDate may carry a fraction (RFC 7519 §2); whole seconds are enough here. Huge
    // values saturate instead of overflowing.
    payload.get(name).and_then(Value::as_f64).map(|t| t as i64).ok_or_else(|| FederationError::ClaimMissing(name.to_owned()))
}

pub fn check(payload: Value, rules: &ClaimRules<'_>) -> Result<VerifiedClaims, FederationError> {
    let Value::Object(payload) = payload else { return Err(FederationError::IdTokenMalformed) };
    let issuer = required_text(&payload, "iss")?;
    if issuer != rules.issuer {
        return Err(FederationError::IssMismatch);
    }
    let audiences: Vec<&str> = match payload.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => return Err(FederationError::ClaimMissing("aud".into())),
    };
    if !audiences.contains(&rules.client_id) {
        return Err(FederationError::AudMismatch);
    }
    // With other audiences beside us, azp must say the token was issued to us.
    match payload.get("azp").and_then(Value::as_str) {
        Some(azp) if azp != rules.client_id => return Err(FederationError::AzpMismatch),
        None if audiences.len() > 1 => return Err(FederationError::AzpMismatch),
        _ => {}
    }
    if required_time(&payload, "exp")?.saturating_add(rules.leeway_seconds) <= rules.now {
        return Err(FederationError::TokenExpired);
    }
    if required_time(&payload, "iat")? > rules.now.saturating_add(rules.leeway_seconds) {
        return Err(FederationError::IatInFuture);
    }
    if payload.get("nonce").and_then(Value::as_str) != Some(rules.nonce) {
        return Err(FederationError::NonceMismatch);
    }
    let subject = required_text(&payload, "sub")?;
    Ok(VerifiedClaims { issuer, subject, claims: payload })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn rules() -> ClaimRules<'static> {
        ClaimRules { issuer: "https://idm.partner.example", client_id: "causeway", nonce: "n-1", now: NOW, leeway_seconds: 60 }
    }

    fn good() -> Value {
        json!({
            "iss": "https://idm.partner.example", "aud": "causeway", "sub": "pairwise-123",
            "exp": NOW + 300, "iat": NOW - 5, "nonce": "n-1", "email": "owner@shop.example"
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

    fn refusal(payload: Value) -> FederationError {
        check(payload, &rules()).unwrap_err()
    }

    #[test]
    fn a_good_token_keeps_every_claim() {
        let verified = check(good(), &rules()).unwrap();
        assert_eq!((verified.issuer.as_str(), verified.subject.as_str()), ("https://idm.partner.example", "pairwise-123"));
        assert_eq!(verified.claims["email"], "owner@shop.example");
        // Several audiences are fine when azp names us.
        let mut multi = with("aud", json!(["causeway", "other-api"]));
        multi["azp"] = json!("causeway");
        assert!(check(multi, &rules()).is_ok());
        // Within the leeway.
        assert!(check(with("exp", json!(NOW - 30)), &rules()).is_ok());
        assert!(check(with("iat", json!(NOW + 30)), &rules()).is_ok());
    }

    #[test]
    fn every_rule_has_its_own_code() {
        use FederationError as E;
        let missing = |c: &str| E::ClaimMissing(c.into());
        let cases: Vec<(&str, Value, FederationError)> = vec![
            ("wrong iss", with("iss", json!("https://idm.partner.example/")), E::IssMismatch),
            ("missing iss", without("iss"), missing("iss")),
            ("wrong aud", with("aud", json!("someone-else")), E::AudMismatch),
            ("aud list without us", with("aud", json!(["a", "b"])), E::AudMismatch),
            ("missing aud", without("aud"), missing("aud")),
            ("several aud without azp", with("aud", json!(["causeway", "other"])), E::AzpMismatch),
            ("wrong azp", with("azp", json!("other")), E::AzpMismatch),
            ("expired", with("exp", json!(NOW - 61)), E::TokenExpired),
            ("missing exp", without("exp"), missing("exp")),
            ("huge exp far in the past", with("exp", json!(-1e300)), E::TokenExpired),
            ("issued in the future", with("iat", json!(NOW + 61)), E::IatInFuture),
            ("huge iat", with("iat", json!(1e300)), E::IatInFuture),
            ("missing iat", without("iat"), missing("iat")),
            ("wrong nonce", with("nonce", json!("n-2")), E::NonceMismatch),
            ("missing nonce", without("nonce"), E::NonceMismatch),
            ("missing sub", without("sub"), missing("sub")),
            ("empty sub", with("sub", json!("")), missing("sub")),
            ("not an object", json!(["x"]), E::IdTokenMalformed),
        ];
        for (name, payload, expected) in cases {
            assert_eq!(refusal(payload), expected, "{name}");
        }
    }
}
