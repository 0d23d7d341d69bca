//! Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4), checked per §2.6: the
//! signature under the IdM's keys with the ID tokens' algorithm rules (so never `none`,
//! never HS*), then `typ`, `iss`, `aud`, `iat`, `exp`, `jti`, `events`, `sid`/`sub` and the
//! absence of `nonce`. The `jti`'s single use is the caller's (it needs the database).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

pub use crate::federation::connector::LogoutNotice;

/// §2.4: the member of `events` that makes a JWT a logout token.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How old a logout token may be (its `iat`), beyond the clock leeway. IdMs send them at
/// once; the bound is what lets a used `jti` be forgotten.
pub const MAX_AGE_SECONDS: i64 = 300;

pub struct LogoutRules<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub now: i64,
    pub leeway_seconds: i64,
}

/// The JOSE header's `typ`, if the token has a readable header that carries one.
pub fn header_typ(token: &str) -> Option<String> {
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next()?).ok()?;
    serde_json::from_slice::<Value>(&header).ok()?.get("typ")?.as_str().map(str::to_owned)
}

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str).filter(|v| !v.is_empty())
}

/// Every rule of §2.6 on a verified payload, in the spec's order; the first broken rule's
/// sentence is the `error_description` the IdM gets back.
pub fn check(typ: Option<&str>, payload: &[u8], rules: &LogoutRules<'_>) -> Result<LogoutNotice, &'static str> {
    // §2.4 recommends `typ: logout+jwt`; untyped tokens and the generic `JWT` some IdMs
    // still send are allowed (the `events` and `nonce` rules keep an ID token from passing
    // as one), any other type is another kind of token.
    if let Some(typ) = typ
        && !["logout+jwt", "application/logout+jwt", "JWT"].iter().any(|t| typ.eq_ignore_ascii_case(t))
    {
        return Err("typ must be logout+jwt");
    }
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(payload) else { return Err("the logout token's payload is not a JSON object") };
    let issuer = text(&claims, "iss").ok_or("iss is missing")?;
    if issuer != rules.issuer {
        return Err("iss is not the configured issuer");
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == rules.client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(rules.client_id)),
        _ => false,
    };
    if !audience_ok {
        return Err("aud does not contain the client id");
    }
    let iat = claims.get("iat").and_then(Value::as_f64).ok_or("iat is missing")? as i64;
    if iat > rules.now.saturating_add(rules.leeway_seconds) {
        return Err("iat is in the future");
    }
    let valid_until = iat.saturating_add(MAX_AGE_SECONDS).saturating_add(rules.leeway_seconds);
    if rules.now > valid_until {
        return Err("iat is too old");
    }
    // Required since errata set 1 (2023), checked like an ID token's.
    match claims.get("exp").and_then(Value::as_f64) {
        Some(exp) if (exp as i64).saturating_add(rules.leeway_seconds) > rules.now => {}
        Some(_) => return Err("the logout token expired"),
        None => return Err("exp is missing"),
    }
    let jti = text(&claims, "jti").ok_or("jti is missing")?;
    let event = claims.get("events").and_then(Value::as_object).and_then(|events| events.get(LOGOUT_EVENT));
    if !event.is_some_and(Value::is_object) {
        return Err("events must hold http://schemas.openid.net/event/backchannel-logout with an object");
    }
    let sub = text(&claims, "sub");
    let sid = text(&claims, "sid");
    if claims.get("sub").is_some_and(|v| !v.is_string()) || claims.get("sid").is_some_and(|v| !v.is_string()) {
        return Err("sub and sid must be strings");
    }
    if sub.is_none() && sid.is_none() {
        return Err("the logout token names neither sid nor sub");
    }
    if claims.contains_key("nonce") {
        return Err("a logout token must not carry a nonce");
    }
    Ok(LogoutNotice {
        issuer: issuer.to_owned(),
        sid: sid.map(str::to_owned),
        sub: sub.map(str::to_owned),
        jti: jti.to_owned(),
        valid_until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const RULES: LogoutRules<'static> = LogoutRules { issuer: "https://idm.example", client_id: "causeway", now: NOW, leeway_seconds: 60 };

    fn good() -> Value {
        json!({
            "iss": "https://idm.example", "aud": ["causeway", "other"], "iat": NOW - 2, "exp": NOW + 118, "jti": "j-1",
            "sid": "s-1", "sub": "u-1", "events": {LOGOUT_EVENT: {}}
        })
    }

    fn judged(payload: &Value) -> Result<LogoutNotice, &'static str> {
        check(Some("logout+jwt"), payload.to_string().as_bytes(), &RULES)
    }

    fn changed(field: &str, value: Option<Value>) -> Result<LogoutNotice, &'static str> {
        let mut p = good();
        match value {
            Some(v) => p[field] = v,
            None => drop(p.as_object_mut().unwrap().remove(field)),
        }
        judged(&p)
    }

    #[test]
    fn a_good_token_names_its_session_and_subject() {
        let notice = judged(&good()).unwrap();
        assert_eq!((notice.sid.as_deref(), notice.sub.as_deref(), notice.jti.as_str()), (Some("s-1"), Some("u-1"), "j-1"));
        assert_eq!(notice.valid_until, NOW - 2 + MAX_AGE_SECONDS + 60);
        assert!(changed("sid", None).is_ok(), "sub alone");
        assert!(changed("sub", None).is_ok(), "sid alone");
        assert!(check(None, good().to_string().as_bytes(), &RULES).is_ok(), "untyped");
    }

    #[test]
    fn every_rule_of_section_2_6_refuses() {
        assert!(check(Some("JWT"), good().to_string().as_bytes(), &RULES).is_ok(), "the generic type");
        assert_eq!(check(Some("at+jwt"), good().to_string().as_bytes(), &RULES), Err("typ must be logout+jwt"));
        assert_eq!(changed("exp", None), Err("exp is missing"));
        assert_eq!(changed("iss", Some(json!("https://evil.example"))), Err("iss is not the configured issuer"));
        assert_eq!(changed("aud", Some(json!("someone-else"))), Err("aud does not contain the client id"));
        assert_eq!(changed("iat", Some(json!(NOW + 61))), Err("iat is in the future"));
        assert_eq!(changed("iat", Some(json!(NOW - MAX_AGE_SECONDS - 61))), Err("iat is too old"));
        assert_eq!(changed("exp", Some(json!(NOW - 61))), Err("the logout token expired"));
        assert_eq!(changed("jti", None), Err("jti is missing"));
        assert!(changed("events", None).is_err());
        assert!(changed("events", Some(json!({"http://schemas.openid.net/event/other": {}}))).is_err());
        assert!(changed("events", Some(json!({LOGOUT_EVENT: "yes"}))).is_err());
        assert_eq!(changed("nonce", Some(json!("n"))), Err("a logout token must not carry a nonce"));
        assert_eq!(changed("sid", Some(json!(7))), Err("sub and sid must be strings"));
        let mut neither = good();
        neither.as_object_mut().unwrap().remove("sid");
        neither.as_object_mut().unwrap().remove("sub");
        assert_eq!(judged(&neither), Err("the logout token names neither sid nor sub"));
        assert!(check(None, b"[1]", &RULES).is_err());
    }
}
