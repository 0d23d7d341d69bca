//! The OpenAPI document partners generate their clients from. poem-openapi writes it from
//! the operations; the passes here give it the shape code generators read best: OpenAPI
//! 3.1 nullability, the three headers every call carries declared once as security
//! schemes, shared parameters and headers, each operation's own error statuses, the value
//! sets of codes and modes, and closed request bodies. Served at `/openapi.json` and
//! committed byte for byte at `openapi/causeway.json`.

mod openapi31;
mod operations;
mod schemas;

use serde_json::Value;

/// The document for a Causeway reachable at `public_url`, as served.
pub fn document(public_url: &str) -> String {
    let written = super::service(public_url).spec();
    let mut doc: Value = serde_json::from_str(&written).expect("poem-openapi writes JSON");
    // Value sets first: they turn strings into references the 3.1 pass then makes nullable.
    schemas::value_sets(&mut doc);
    schemas::formats(&mut doc);
    schemas::closed_request_bodies(&mut doc);
    openapi31::convert(&mut doc);
    operations::authentication(&mut doc);
    operations::shared_parameters(&mut doc);
    operations::responses(&mut doc);
    let mut text = serde_json::to_string_pretty(&doc).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// `doc.components.<section>`, created when missing.
fn components<'a>(doc: &'a mut Value, section: &str) -> &'a mut serde_json::Map<String, Value> {
    let components = doc.as_object_mut().expect("the document is an object").entry("components").or_insert_with(|| Value::Object(Default::default()));
    components.as_object_mut().expect("components is an object").entry(section).or_insert_with(|| Value::Object(Default::default())).as_object_mut().expect("a components section is an object")
}

/// Every operation of the document, with its path and method.
fn operations_mut(doc: &mut Value) -> impl Iterator<Item = (&String, &String, &mut Value)> {
    doc["paths"].as_object_mut().expect("the document has paths").iter_mut().flat_map(|(path, item)| {
        item.as_object_mut().expect("a path item is an object").iter_mut().map(move |(method, op)| (path, method, op))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        serde_json::from_str(&document("https://causeway.example")).unwrap()
    }

    /// Every schema object of the document, wherever it is.
    fn schemas(value: &Value, found: &mut Vec<Value>) {
        match value {
            Value::Object(map) => {
                if map.contains_key("type") || map.contains_key("$ref") || map.contains_key("anyOf") {
                    found.push(value.clone());
                }
                map.values().for_each(|v| schemas(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| schemas(v, found)),
            _ => {}
        }
    }

    #[test]
    fn it_is_openapi_31_without_30_leftovers() {
        let doc = doc();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut found = Vec::new();
        schemas(&doc, &mut found);
        for schema in &found {
            assert!(schema.get("nullable").is_none(), "3.0 nullable left: {schema}");
            if let Some(all_of) = schema.get("allOf") {
                panic!("allOf wrapper left: {all_of}");
            }
        }
        let terms = &doc["components"]["schemas"]["LegalEntityCreate"]["properties"]["terms_of_service"];
        assert_eq!(terms["anyOf"][0]["$ref"], "#/components/schemas/TermsOfServiceInput");
        assert_eq!(terms["anyOf"][1]["type"], "null");
        assert_eq!(doc["components"]["schemas"]["LegalEntity"]["properties"]["terms_of_service"]["$ref"], "#/components/schemas/TermsOfService");
    }

    #[test]
    fn every_operation_is_named_authenticated_once_and_json_only() {
        let mut doc = doc();
        assert_eq!(doc["security"], serde_json::json!([{"AppId": [], "AppToken": [], "ApiVersion": []}]));
        let mut names = Vec::new();
        for (path, method, op) in operations_mut(&mut doc) {
            let name = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId")).to_owned();
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{name}");
            assert!(op.get("security").is_none(), "{name} inherits the document's security");
            for param in op["parameters"].as_array().into_iter().flatten() {
                assert!(!matches!(param["name"].as_str(), Some("App-Id" | "Api-Version")), "{name} repeats a credential header");
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                for media in response["content"].as_object().into_iter().flat_map(|c| c.keys()) {
                    assert_eq!(media, "application/json", "{name} {status}");
                }
                assert_eq!(response["headers"]["X-Correlation-Id"]["$ref"], "#/components/headers/CorrelationId", "{name} {status}");
                assert!(!response["description"].as_str().unwrap_or_default().is_empty(), "{name} {status} has a description");
            }
            let summary = op["summary"].as_str().unwrap_or_default();
            assert!(!summary.is_empty() && summary.len() <= 40 && !summary.ends_with('.'), "{name}: a short summary, got {summary:?}");
            names.push(name);
        }
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "operation ids are unique: {names:?}");
    }

    #[test]
    fn reads_declare_no_body_errors_and_creates_declare_replays() {
        let doc = doc();
        let get = &doc["paths"]["/accounts/{id}"]["get"]["responses"];
        for status in ["409", "413", "415"] {
            assert!(get.get(status).is_none(), "GET /accounts/{{id}} declares {status}");
        }
        assert!(get.get("404").is_some());
        let create = &doc["paths"]["/accounts"]["post"];
        assert!(create["responses"].get("409").is_some());
        assert_eq!(create["responses"]["201"]["headers"]["Idempotent-Replayed"]["$ref"], "#/components/headers/IdempotentReplayed");
        assert_eq!(create["parameters"][0]["$ref"], "#/components/parameters/UniqueKey");
        assert!(doc["paths"]["/partner/idm"]["get"]["responses"].get("404").is_none());
    }

    #[test]
    fn codes_and_modes_are_value_sets_and_request_bodies_are_closed() {
        let doc = doc();
        let s = &doc["components"]["schemas"];
        assert!(s["ReasonCode"]["enum"].as_array().unwrap().contains(&"INVALID_EMAIL".into()));
        assert!(s["SsoErrorCode"]["enum"].as_array().unwrap().contains(&"claim_missing".into()));
        assert_eq!(s["SsoEvent"]["properties"]["error_code"]["$ref"], "#/components/schemas/SsoErrorCode");
        let method = &s["IdmConfigBody"]["properties"]["token_endpoint_auth_method"];
        assert_eq!(method["anyOf"][0]["$ref"], "#/components/schemas/TokenEndpointAuthMethod", "{method}");
        assert_eq!(s["IdmConfigBody"]["properties"]["required_claims"]["items"]["$ref"], "#/components/schemas/RequiredClaim");
        for closed in ["LegalEntityCreate", "ControllerInput", "TermsOfServiceInput", "AccountCreate", "IdmConfigBody", "ClaimNamesBody"] {
            assert_eq!(s[closed]["additionalProperties"], false, "{closed}");
        }
        assert!(s["LegalEntity"].get("additionalProperties").is_none(), "responses stay open to new fields");
    }
}
