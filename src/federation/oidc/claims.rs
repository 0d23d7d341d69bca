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

/// The rules of OIDC Core §3.1.3.7, in the order a login checks them, each by name: a login
/// stops at the first that fails, a test sign-in reports them all.
pub const RULES: [&str; 7] = ["iss", "aud", "azp", "exp", "iat", "nonce", "sub"];

/// Every rule's verdict on `payload`, in `RULES` order.
pub fn check_each(payload: &Map<String, Value>, rules: &ClaimRules<'_>) -> [Result<(), FederationError>; 7] {
    let iss = required_text(payload, "iss").and_then(|iss| if iss == rules.issuer { Ok(()) } else { Err(FederationError::IssMismatch) });
    let audiences: Option<Vec<&str>> = match payload.get("aud") {
        Some(Value::String(one)) => Some(vec![one.as_str()]),
        Some(Value::Array(many)) => Some(many.iter().filter_map(Value::as_str).collect()),
        _ => None,
    };
    let aud = match &audiences {
        None => Err(FederationError::ClaimMissing("aud".into())),
        Some(list) if !list.contains(&rules.client_id) => Err(FederationError::AudMismatch),
        Some(_) => Ok(()),
    };
    // With other audiences beside us, azp must say the token was issued to us.
    let azp = match payload.get("azp").and_then(Value::as_str) {
        Some(azp) if azp != rules.client_id => Err(FederationError::AzpMismatch),
        None if audiences.as_ref().is_some_and(|a| a.len() > 1) => Err(FederationError::AzpMismatch),
        _ => Ok(()),
    };
    let exp = required_time(payload, "exp")
        .and_then(|exp| if exp.saturating_add(rules.leeway_seconds) <= rules.now { Err(FederationError::TokenExpired) } else { Ok(()) });
    let iat = required_time(payload, "iat")
        .and_then(|iat| if iat > rules.now.saturating_add(rules.leeway_seconds) { Err(FederationError::IatInFuture) } else { Ok(()) });
    let nonce = if payload.get("nonce").and_then(Value::as_str) == Some(rules.nonce) { Ok(()) } else { Err(FederationError::NonceMismatch) };
    let sub = required_text(payload, "sub").map(|_| ());
    [iss, aud, azp, exp, iat, nonce, sub]
}

pub fn check(payload: Value, rules: &ClaimRules<'_>) -> Result<VerifiedClaims, FederationError> {
    let Value::Object(payload) = payload else { return Err(FederationError::IdTokenMalformed) };
    if let Some(Err(first)) = check_each(&payload, rules).into_iter().find(Result::is_err) {
        return Err(first);
    }
    Ok(VerifiedClaims { issuer: required_text(&payload, "iss")?, subject: required_text(&payload, "sub")?, claims: payload })
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

/// Property tests (issue 14): any payload, and times, clock and leeway anywhere in i64.
/// Bounded runs; no regression files are written into the tree.
#[cfg(test)]
mod prop_tests {
    use proptest::prelude::*;
    use proptest::test_runner::Config;
    use serde_json::json;

    use super::*;

    fn bounded() -> Config {
        Config { cases: 512, failure_persistence: None, ..Config::default() }
    }

    /// A NumericDate anywhere: any i64 or u64, any finite double, the ends of i64.
    fn numeric_date() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
            prop::sample::select(vec![i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1, 0, -1]).prop_map(Value::from),
        ]
    }

    /// Whole seconds of a NumericDate: the JSON number as a double (RFC 7519 §2 allows
    /// fractions), toward zero, held at the ends of i64.
    fn whole_seconds(value: &Value) -> i128 {
        within_i64(value.as_f64().unwrap().trunc() as i128)
    }

    fn within_i64(x: i128) -> i128 {
        x.clamp(i64::MIN.into(), i64::MAX.into())
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            numeric_date(),
            prop::sample::select(vec!["i", "c", "n", "s", "", " "]).prop_map(Value::from),
            ".{0,8}".prop_map(Value::String),
        ];
        let key = prop::sample::select(vec!["iss", "aud", "azp", "exp", "iat", "nonce", "sub", "x"]).prop_map(str::to_owned);
        leaf.prop_recursive(3, 32, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(bounded())]

        /// exp, iat, now and leeway anywhere in i64 (and beyond, as doubles): no overflow,
        /// and the verdict is exact arithmetic held within i64 — saturating, never wrapping.
        #[test]
        fn times_saturate_at_the_ends_of_i64(exp in numeric_date(), iat in numeric_date(), now in any::<i64>(), leeway in any::<i64>()) {
            let rules = ClaimRules { issuer: "i", client_id: "c", nonce: "n", now, leeway_seconds: leeway };
            let payload = json!({"iss": "i", "aud": "c", "sub": "s", "nonce": "n", "exp": exp, "iat": iat});
            let expired = within_i64(whole_seconds(&exp) + i128::from(leeway)) <= i128::from(now);
            let future = whole_seconds(&iat) > within_i64(i128::from(now) + i128::from(leeway));
            let expected = if expired {
                Err(FederationError::TokenExpired)
            } else if future {
                Err(FederationError::IatInFuture)
            } else {
                Ok("s".to_owned())
            };
            prop_assert_eq!(check(payload, &rules).map(|v| v.subject), expected);
        }

        /// Any JSON as a payload: accepted only with every claim right, else one of the
        /// errors the rules document; never a panic.
        #[test]
        fn any_payload_gets_a_documented_verdict(payload in any_json(), now in any::<i64>(), leeway in any::<i64>()) {
            use FederationError as E;
            let rules = ClaimRules { issuer: "i", client_id: "c", nonce: "n", now, leeway_seconds: leeway };
            match check(payload.clone(), &rules) {
                Ok(verified) => {
                    prop_assert_eq!((verified.issuer.as_str(), verified.subject.trim().is_empty()), ("i", false));
                    prop_assert_eq!(payload.get("nonce"), Some(&json!("n")));
                    prop_assert_eq!(Value::Object(verified.claims), payload);
                }
                Err(E::ClaimMissing(name)) => prop_assert!(["iss", "aud", "exp", "iat", "sub"].contains(&name.as_str()), "{}", name),
                Err(E::IdTokenMalformed) => prop_assert!(!payload.is_object()),
                Err(E::IssMismatch | E::AudMismatch | E::AzpMismatch | E::TokenExpired | E::IatInFuture | E::NonceMismatch) => {}
                Err(other) => prop_assert!(false, "check answered {other:?}"),
            }
        }
    }
}
