//! `ApiJson<T>`: a JSON request body parsed with serde so every problem can name the
//! field it concerns (`details[].target`), while the spec still shows `T`'s schema.

use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;
use crate::crypto::digest::sha256_hex;
use crate::domain::field_error::{FieldError, Reason};
use crate::state::AppState;

pub struct ApiJson<T> {
    pub value: T,
    /// SHA-256 of the body with object keys sorted: equal for bodies that mean the same.
    pub digest: String,
}

impl<T: Type> Payload for ApiJson<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned + Send> ParsePayload for ApiJson<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = request.data::<AppState>().map_or(1024 * 1024, |s| s.settings.max_body_bytes);
        let bytes = body.take()?.into_bytes_limit(limit).await.map_err(|err| match err {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::too_large(limit),
            other => ApiError::invalid(format!("The request body could not be read: {other}"), &[]),
        }.reject())?;
        // A generic JSON value costs tens of bytes per element: 1 MiB of `[0,0,…]` would be
        // tens of MB of heap. No body of this API has more than a few dozen values.
        if let Some(problem) = too_complex(&bytes) {
            return Err(ApiError::invalid_one(&[], Reason::InvalidJson, problem).reject());
        }
        let mut value: Value = serde_json::from_slice(&bytes).map_err(|err| {
            ApiError::invalid_one(&[], Reason::InvalidJson, &format!("The request body is not valid JSON: {err}.")).reject()
        })?;
        // serde would also accept a struct written as an array; the API takes objects only.
        if !value.is_object() {
            return Err(ApiError::invalid_one(&[], Reason::InvalidType, "The request body must be a JSON object.").reject());
        }
        // `null` for a member means "not set", exactly like leaving it out (the contract):
        // clients built on common serializers send null for every unset optional field.
        drop_null_members(&mut value);
        let digest = sha256_hex(canonical(&value).as_bytes());
        let parsed = serde_path_to_error::deserialize(value).map_err(|err| {
            let problem = structural_problem(&err);
            ApiError::invalid("The request body does not have the expected shape.", &[problem]).reject()
        })?;
        Ok(Self { value: parsed, digest })
    }
}

poem_openapi::impl_apirequest_for_payload!(ApiJson<T>, T: Type + DeserializeOwned + Send);

/// More values than any request of this API has, or deeper nesting: refused before parsing.
const MAX_VALUES: usize = 1000;
const MAX_DEPTH: usize = 16;

/// Counts the values and nesting of a JSON text without building it (strings skipped with
/// their escapes); an invalid text is left for the parser to name.
fn too_complex(bytes: &[u8]) -> Option<&'static str> {
    let (mut values, mut depth, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some("The request body is nested deeper than any request of this API.");
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' | b':' => {
                values += 1;
                if values > MAX_VALUES {
                    return Some("The request body has more values than any request of this API.");
                }
            }
            _ => {}
        }
    }
    None
}

/// Classifies serde's first structural error (missing, unknown or mistyped field).
fn structural_problem(err: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let mut target: Vec<String> = err
        .path()
        .iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            _ => None,
        })
        .collect();
    let message = err.inner().to_string();
    let quoted = message.split('`').nth(1).map(str::to_owned);
    let reason = if message.starts_with("missing field") {
        Reason::MissingField
    } else if message.starts_with("unknown field") {
        Reason::UnknownField
    } else {
        Reason::InvalidType
    };
    if matches!(reason, Reason::MissingField | Reason::UnknownField)
        && let Some(field) = quoted
            && target.last() != Some(&field) {
                target.push(field);
            }
    let message = match reason {
        Reason::MissingField => "this field is required".to_owned(),
        Reason::UnknownField => "this field is not part of the API".to_owned(),
        _ => message.split(" at line ").next().unwrap_or_default().to_owned(),
    };
    FieldError { target, reason, message }
}

/// Removes every object member whose value is `null`, at every depth (array elements
/// stay: a null inside a list is a value of the wrong type, not an unset field).
fn drop_null_members(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, member| !member.is_null());
            map.values_mut().for_each(drop_null_members);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_members),
        _ => {}
    }
}

/// JSON text with object keys sorted at every level.
fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    fn problem(json: &str) -> FieldError {
        let value: Value = serde_json::from_str(json).unwrap();
        let err = serde_path_to_error::deserialize::<_, Outer>(value).unwrap_err();
        structural_problem(&err)
    }

    #[test]
    fn structural_problems_name_their_field() {
        let p = problem(r#"{"inner": {}}"#);
        assert_eq!((p.target, p.reason), (vec!["inner".to_string(), "flag".to_string()], Reason::MissingField));
        let p = problem(r#"{"inner": {"flag": true, "extra": 1}}"#);
        assert_eq!((p.target, p.reason), (vec!["inner".to_string(), "extra".to_string()], Reason::UnknownField));
        let p = problem(r#"{"inner": {"flag": "true"}}"#);
        assert_eq!((p.target, p.reason), (vec!["inner".to_string(), "flag".to_string()], Reason::InvalidType));
    }

    #[test]
    fn null_members_mean_not_set() {
        let mut v: Value = serde_json::from_str(r#"{"a": null, "b": {"c": null, "d": 1}, "e": [null, {"f": null}]}"#).unwrap();
        drop_null_members(&mut v);
        assert_eq!(v, serde_json::json!({"b": {"d": 1}, "e": [null, {}]}));
    }

    #[test]
    fn canonical_form_ignores_key_order() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": 2, "x": 3}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a": {"x": 3, "y": 2}, "b": 1}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        let c: Value = serde_json::from_str(r#"{"a": {"x": 3, "y": 2}, "b": 2}"#).unwrap();
        assert_ne!(canonical(&a), canonical(&c));
    }

    #[test]
    fn bodies_far_larger_than_any_request_are_refused_unparsed() {
        assert_eq!(too_complex(br#"{"country": "US", "controller": {"email": "a@b.example"}, "x": [1, 2, 3]}"#), None);
        // Punctuation inside strings is text, not structure.
        assert_eq!(too_complex(format!(r#"{{"name": "{}\"{}"}}"#, ",".repeat(5000), "[".repeat(100)).as_bytes()), None);
        assert!(too_complex(format!("[{}0]", "0,".repeat(2000)).as_bytes()).is_some());
        assert!(too_complex(format!("{}{}", "[".repeat(17), "]".repeat(17)).as_bytes()).is_some());
        assert_eq!(too_complex(format!("{}{}", "[".repeat(16), "]".repeat(16)).as_bytes()), None);
    }
}
