//! A test sign-in's report (contract, "Go-live and health"): every rule with what was
//! observed and the fix, instead of the first failure a merchant's sign-in stops at.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How long a report is kept, and a started test sign-in may be finished.
pub const REPORT_SECONDS: i64 = 24 * 3600;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub rule: String,
    pub passed: bool,
    /// What Causeway saw: claim names, JSON types, and values that are the partner's own
    /// (e-mail, names, account id) — never a token, code or secret.
    pub observed: String,
    /// What to change when it failed; empty when it passed.
    pub fix: String,
}

/// One claim as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimSeen {
    pub name: String,
    /// `string`, `boolean`, `number`, `array`, `object` or `null`.
    pub json_type: String,
    /// Set for claims whose value is the partner's own data or a protocol value; `None` for
    /// anything else (it could be a token or a secret).
    pub value: Option<Value>,
}

/// Everything a finished test sign-in found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub checks: Vec<Check>,
    pub id_token_claims: Vec<ClaimSeen>,
    /// `None` when userinfo was not (or could not be) read.
    pub userinfo_claims: Option<Vec<ClaimSeen>>,
    pub alg: Option<String>,
    pub kid: Option<String>,
    /// Causeway's clock minus the ID token's `iat`, in seconds: how far the IdM's clock is
    /// behind (positive) or ahead (negative), give or take the sign-in's own duration.
    pub clock_offset_seconds: Option<i64>,
    pub account_id: Option<String>,
    pub role: Option<String>,
    /// Why that account and role (claim, grant, controller), or why none.
    pub access: String,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// The JSON type's name, as the report spells it.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Claims whose values are shown: protocol values and the profile the partner sends about
/// its own people. `extra` adds the partner's account claim and its renamed claims.
const SHOWN: [&str; 16] = [
    "iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "email", "email_verified", "given_name", "family_name", "name", "phone_number",
    "phone_number_verified", "preferred_username", "status",
];

/// `claims` listed by name with their JSON type, and values where they may be shown.
pub fn claims_seen(claims: &Map<String, Value>, extra: &[&str]) -> Vec<ClaimSeen> {
    claims
        .iter()
        .map(|(name, value)| {
            let shown = SHOWN.contains(&name.as_str()) || extra.contains(&name.as_str());
            ClaimSeen { name: name.clone(), json_type: json_type(value).to_owned(), value: shown.then(|| value.clone()) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_known_claims_show_their_values() {
        let claims = json!({"email": "a@b.example", "email_verified": "true", "at_hash": "x", "https://p.example/acct": "acc-1"});
        let seen = claims_seen(claims.as_object().unwrap(), &["https://p.example/acct"]);
        let by = |n: &str| seen.iter().find(|c| c.name == n).unwrap().clone();
        assert_eq!(by("email_verified"), ClaimSeen { name: "email_verified".into(), json_type: "string".into(), value: Some(json!("true")) });
        assert_eq!(by("at_hash").value, None);
        assert_eq!(by("https://p.example/acct").value, Some(json!("acc-1")));
    }
}
