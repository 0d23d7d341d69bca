//! What the Rust types of the API leave as plain strings but are closed sets or formats:
//! each value set is a named schema built from the domain's own list (so it cannot drift
//! from what the server accepts and answers), used by the properties that hold it.

use serde_json::{json, Map, Value};

use super::components;
use crate::domain::access::Source;
use crate::domain::field_error::Reason;
use crate::domain::identity::{EmailTrust, StandardClaim};
use crate::domain::idm_config::{Kind, TokenAuthMethod, UserinfoMode};
use crate::domain::landing::Target;
use crate::domain::role::Role;
use crate::domain::sso_error::SsoError;
use crate::domain::urls::MAX_URL_CHARS;
use crate::federation::idm_check::{StepStatus, STEP_NAMES};
use crate::services::sso_events::Outcome;

fn strings<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for value in values.into_iter().map(Into::into) {
        if !all.contains(&value) {
            all.push(value);
        }
    }
    all
}

/// The named value sets: (schema name, description, values).
fn sets() -> Vec<(&'static str, &'static str, Vec<String>)> {
    vec![
        ("ReasonCode", "What is wrong with the field a detail names.", strings(Reason::ALL.map(Reason::code))),
        (
            "SsoErrorCode",
            "The SSO failure catalog; README lists the fix for each. The claim a `claim_missing` is about is named in the detail.",
            strings(SsoError::catalog().iter().map(SsoError::code)),
        ),
        ("SsoOutcome", "How a sign-in attempt ended.", strings(Outcome::ALL.map(Outcome::as_str))),
        ("Role", "A person's role on an account.", strings(Role::ALL.map(Role::as_str))),
        ("AccessSource", "Where a person's access to an account comes from.", strings(Source::ALL.map(Source::as_str))),
        ("IdmKind", "The kind of IdM: OpenID Connect, or a hosted login with a code exchange.", strings(Kind::ALL.map(Kind::as_str))),
        ("TokenEndpointAuthMethod", "How Causeway authenticates at the token endpoint (OIDC Core §9).", strings(TokenAuthMethod::ALL.map(TokenAuthMethod::as_str))),
        ("UserinfoMode", "When a sign-in reads the IdM's userinfo endpoint.", strings(UserinfoMode::ALL.map(UserinfoMode::as_str))),
        ("EmailVerifiedPolicy", "Which e-mails count as verified.", strings(EmailTrust::ALL.map(EmailTrust::as_str))),
        ("RequiredClaim", "A claim a sign-in can be required to carry.", strings(StandardClaim::ALL.map(StandardClaim::as_str))),
        ("IdmTestStepName", "A step of the live check.", strings(STEP_NAMES)),
        ("IdmTestStepStatus", "How a step of the live check ended.", strings(StepStatus::ALL.map(StepStatus::as_str))),
        ("LegalEntityResource", "The object's type.", strings(["legal_entities"])),
        ("AccountResource", "The object's type.", strings(["accounts"])),
        ("AccountUserResource", "The object's type.", strings(["account_users"])),
        ("LinkTarget", "The Merchant Center page a deep link lands on.", strings(Target::ALL.map(Target::as_str))),
    ]
}

/// Which property holds which set: (schema, property, set).
const USES: [(&str, &str, &str); 23] = [
    ("ErrorDetail", "reason_code", "ReasonCode"),
    ("SsoEvent", "error_code", "SsoErrorCode"),
    ("SsoEvent", "outcome", "SsoOutcome"),
    ("LegalEntity", "resource", "LegalEntityResource"),
    ("Account", "resource", "AccountResource"),
    ("AccountUser", "resource", "AccountUserResource"),
    ("AccountUser", "role", "Role"),
    ("AccountUser", "source", "AccessSource"),
    ("AccountUserCreate", "role", "Role"),
    ("AccountLinkCreate", "target", "LinkTarget"),
    ("IdmConfigBody", "kind", "IdmKind"),
    ("IdmConfigView", "kind", "IdmKind"),
    ("IdmSettings", "kind", "IdmKind"),
    ("IdmConfigBody", "token_endpoint_auth_method", "TokenEndpointAuthMethod"),
    ("IdmSettings", "token_endpoint_auth_method", "TokenEndpointAuthMethod"),
    ("IdmConfigBody", "userinfo", "UserinfoMode"),
    ("IdmSettings", "userinfo", "UserinfoMode"),
    ("IdmConfigBody", "email_verified", "EmailVerifiedPolicy"),
    ("IdmSettings", "email_verified", "EmailVerifiedPolicy"),
    ("IdmConfigBody", "required_claims", "RequiredClaim"),
    ("IdmSettings", "required_claims", "RequiredClaim"),
    ("IdmTestStep", "name", "IdmTestStepName"),
    ("IdmTestStep", "status", "IdmTestStepStatus"),
];

/// `schemas.<schema>.properties.<property>`; a missing one is a mistake in a table here.
fn property<'a>(schemas: &'a mut Map<String, Value>, schema: &str, property: &str) -> &'a mut Value {
    schemas
        .get_mut(schema)
        .and_then(|s| s.get_mut("properties"))
        .and_then(|p| p.get_mut(property))
        .unwrap_or_else(|| panic!("the spec has no {schema}.{property}"))
}

/// A reference to `set` in place of the string `target` was, keeping its annotations.
fn refer(target: &mut Value, set: &str) {
    let reference = json!({"$ref": format!("#/components/schemas/{set}")});
    if target["type"] == "array" {
        target["items"] = reference;
        return;
    }
    let mut replaced = reference.as_object().cloned().unwrap_or_default();
    for key in ["description", "nullable", "readOnly", "writeOnly"] {
        if let Some(value) = target.get(key) {
            replaced.insert(key.into(), value.clone());
        }
    }
    *target = Value::Object(replaced);
}

pub fn value_sets(doc: &mut Value) {
    let schemas = components(doc, "schemas");
    for (name, description, values) in sets() {
        schemas.insert(name.into(), json!({"type": "string", "description": description, "enum": values}));
    }
    for (schema, field, set) in USES {
        refer(property(schemas, schema, field), set);
    }
}

/// Formats a client can check or parse into a richer type: (schema, properties, format).
const FORMATS: [(&str, &[&str], &str); 10] = [
    ("LegalEntity", &["id"], "uuid"),
    ("Account", &["id", "legal_entity_id"], "uuid"),
    ("AccountCreate", &["legal_entity_id"], "uuid"),
    ("AccountUser", &["account_id"], "uuid"),
    ("SessionRevocation", &["account_id"], "uuid"),
    ("SsoEvent", &["id", "correlation_id"], "uuid"),
    // Only the URLs an empty string cannot stand for: in a request, an empty optional URL
    // means "not set", which `format: uri` would forbid.
    ("IdmConfigBody", &["issuer", "base_url", "logout_url"], "uri"),
    ("IdmSettings", URLS, "uri"),
    ("IdmConfigView", &["redirect_uri", "cta_url"], "uri"),
    ("BrandingView", &["logo_url"], "uri"),
];
const URLS: &[&str] = &[
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "end_session_endpoint",
    "logout_url",
    "base_url",
    "login_url",
    "exchange_url",
];

pub fn formats(doc: &mut Value) {
    let schemas = components(doc, "schemas");
    for (schema, fields, format) in FORMATS {
        for field in fields {
            property(schemas, schema, field)["format"] = json!(format);
        }
    }
    for field in URLS {
        property(schemas, "IdmConfigBody", field)["maxLength"] = json!(MAX_URL_CHARS);
    }
    property(schemas, "BrandingBody", "logo_url")["maxLength"] = json!(MAX_URL_CHARS);
    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    property(schemas, "IdmConfigBody", "scopes")["items"]["pattern"] = json!("^[!#-\\[\\]-~]+$");
}

/// Request bodies refuse unknown fields (400 `UNKNOWN_FIELD`), so their schemas say so:
/// generated models then offer no `additional_properties` that could only be refused.
/// Responses stay open, so a field added later breaks no client.
pub fn closed_request_bodies(doc: &mut Value) {
    let mut pending: Vec<String> = Vec::new();
    for (_, _, op) in super::operations_mut(doc) {
        if let Some(content) = op.pointer("/requestBody/content").and_then(Value::as_object) {
            content.values().filter_map(|media| media.pointer("/schema/$ref")?.as_str()).for_each(|r| pending.push(r.to_owned()));
        }
    }
    let schemas = components(doc, "schemas");
    let mut closed: Vec<String> = Vec::new();
    while let Some(reference) = pending.pop() {
        let name = reference.trim_start_matches("#/components/schemas/").to_owned();
        if closed.contains(&name) {
            continue;
        }
        let Some(schema) = schemas.get_mut(&name) else { continue };
        if schema["type"] == "object" {
            schema["additionalProperties"] = json!(false);
        }
        collect_refs(schema, &mut pending);
        closed.push(name);
    }
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                into.push(reference.clone());
            }
            map.values().for_each(|v| collect_refs(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}
