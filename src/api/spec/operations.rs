//! What every operation shares, declared once: the headers every call carries, the
//! `Unique-Key` parameter, the response headers; and what differs, each operation's own
//! error statuses.

use serde_json::{json, Value};

use super::{components, operations_mut};
use crate::api::auth::API_VERSION;

/// `App-Id`, `App-Token` and `Api-Version` as three header schemes required together, for
/// the whole document. A generated client then takes them once (its default headers)
/// instead of as arguments of every call. `Api-Version` is no credential, but it is the
/// same kind of thing for a client: one value for every call, and a call without it is
/// refused before anything else.
pub fn authentication(doc: &mut Value) {
    let schemes = components(doc, "securitySchemes");
    schemes.clear();
    let header = |name: &str, description: &str| json!({"type": "apiKey", "in": "header", "name": name, "description": description});
    schemes.insert("AppId".into(), header("App-Id", "Your app's id, from `causeway app create`."));
    schemes.insert(
        "AppToken".into(),
        header("App-Token", "Your app's token, shown once by `causeway app create` (or `rotate-token`). A wrong, rotated-away or suspended credential is a 401."),
    );
    schemes.insert("ApiVersion".into(), header("Api-Version", &format!("Always `{API_VERSION}`; anything else, or nothing, is a 400 (`INVALID_API_VERSION`).")));
    doc["security"] = json!([{"AppId": [], "AppToken": [], "ApiVersion": []}]);
    for (_, _, op) in operations_mut(doc) {
        op.as_object_mut().expect("an operation is an object").remove("security");
    }
}

/// `Unique-Key` once, referenced by the operations that take it; the restore operation's
/// `version` as the integer it is (the handler parses it, so its error can name it).
pub fn shared_parameters(doc: &mut Value) {
    components(doc, "parameters").insert(
        "UniqueKey".into(),
        json!({
            "name": "Unique-Key",
            "in": "header",
            "required": false,
            "description": "Makes the request idempotent for 24 hours: the same key and body answer with the first response again \
                (with `Idempotent-Replayed: true`); the same key with another body is a 409 `IDEMPOTENCY_CONFLICT`.",
            "schema": {"type": "string", "pattern": "^[!-~]{1,255}$", "example": "onboard-7f3a-2026-12-01"}
        }),
    );
    for (_, _, op) in operations_mut(doc) {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else { continue };
        for param in params.iter_mut() {
            match (param["in"].as_str(), param["name"].as_str()) {
                (Some("header"), Some("Unique-Key")) => *param = json!({"$ref": "#/components/parameters/UniqueKey"}),
                (Some("path"), Some("version")) => param["schema"] = json!({"type": "integer", "format": "int64", "minimum": 1}),
                (Some("path"), Some("id")) => param["schema"] = json!({"type": "string", "format": "uuid"}),
                _ => {}
            }
        }
    }
}

/// The error statuses each operation can answer beside 400, 401, 429, 500 and 503, which
/// all can: 404 where it names an object, 409 where it takes `Unique-Key`, 413 and 415 where
/// it takes a body.
const ERRORS: [(&str, &[&str]); 21] = [
    ("create_legal_entity", &["409", "413", "415"]),
    ("get_legal_entity", &["404"]),
    ("create_account", &["404", "409", "413", "415"]),
    ("get_account", &["404"]),
    ("grant_account_access", &["404", "409", "413", "415"]),
    ("list_account_users", &["404"]),
    ("remove_account_user", &["404"]),
    ("create_account_link", &["404", "413", "415"]),
    ("revoke_sessions", &["404", "413", "415"]),
    ("get_idm_config", &[]),
    ("set_idm_config", &["413", "415"]),
    ("test_idm_config", &["404"]),
    ("list_idm_config_versions", &[]),
    ("restore_idm_config_version", &["404"]),
    ("get_branding", &[]),
    ("set_branding", &["413", "415"]),
    ("list_sso_events", &[]),
    ("list_audit_events", &[]),
    ("start_test_sign_in", &["404"]),
    ("get_test_sign_in", &["404"]),
    ("get_health", &[]),
];
const ALWAYS: [&str; 5] = ["400", "401", "429", "500", "503"];

/// Response headers under their usual spelling (poem-openapi upper-cases them), each
/// described once.
const HEADERS: [(&str, &str, &str); 3] = [
    ("RETRY-AFTER", "Retry-After", "RetryAfter"),
    ("IDEMPOTENT-REPLAYED", "Idempotent-Replayed", "IdempotentReplayed"),
    ("X-CORRELATION-ID", "X-Correlation-Id", "CorrelationId"),
];

pub fn responses(doc: &mut Value) {
    let headers = components(doc, "headers");
    headers.insert(
        "CorrelationId".into(),
        json!({"description": "This request's id in Causeway's logs; quote it to support.", "required": true, "schema": {"type": "string", "format": "uuid"}}),
    );
    headers.insert(
        "IdempotentReplayed".into(),
        json!({"description": "`true` when this is the first response to an earlier request with the same `Unique-Key`, answered again; absent otherwise.", "schema": {"type": "boolean"}}),
    );
    headers.insert("RetryAfter".into(), json!({"description": "Seconds to wait before calling again.", "required": true, "schema": {"type": "integer", "minimum": 1}}));
    for (path, method, op) in operations_mut(doc) {
        let name = op["operationId"].as_str().unwrap_or_default().to_owned();
        let (_, extra) = ERRORS.iter().find(|(id, _)| *id == name).unwrap_or_else(|| panic!("{method} {path}: add {name:?} to spec::operations::ERRORS"));
        let responses = op["responses"].as_object_mut().expect("an operation has responses");
        responses.retain(|status, _| status.starts_with('2') || ALWAYS.contains(&status.as_str()) || extra.contains(&status.as_str()));
        for response in responses.values_mut() {
            if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
                // JSON is UTF-8 by definition (RFC 8259 §8.1): clients key their types by
                // the bare media type.
                let entries: Vec<(String, Value)> = std::mem::take(content).into_iter().collect();
                for (media, body) in entries {
                    let bare = media.split(';').next().unwrap_or_default().trim().to_owned();
                    content.insert(bare, body);
                }
            }
            let declared = response.as_object_mut().expect("a response is an object").entry("headers").or_insert_with(|| json!({}));
            let declared = declared.as_object_mut().expect("headers is an object");
            for (written, spelled, component) in HEADERS {
                if declared.remove(written).is_some() || declared.remove(spelled).is_some() {
                    declared.insert(spelled.into(), json!({"$ref": format!("#/components/headers/{component}")}));
                }
            }
            declared.insert("X-Correlation-Id".into(), json!({"$ref": "#/components/headers/CorrelationId"}));
        }
    }
}
