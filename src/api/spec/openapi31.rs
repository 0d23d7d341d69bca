//! From the OpenAPI 3.0 poem-openapi writes to 3.1 (JSON Schema 2020-12), where a nullable
//! reference needs no `allOf` wrapper — the wrapper makes generators emit a second class
//! for the same object, and 3.0's `nullable` beside a `$ref` means nothing.

use serde_json::{json, Map, Value};

pub fn convert(doc: &mut Value) {
    doc["openapi"] = json!("3.1.0");
    walk(doc);
}

/// Keys that only annotate a schema, which poem-openapi puts in `allOf` members beside a
/// `$ref` and which 3.1 allows beside it directly.
const ANNOTATIONS: [&str; 7] = ["description", "nullable", "readOnly", "writeOnly", "default", "example", "title"];

fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(walk);
            unwrap_single_ref(map);
            nullable(map);
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

/// `{"allOf": [{"$ref": R}, {annotations}…], annotations}` → `{"$ref": R, annotations}`.
fn unwrap_single_ref(map: &mut Map<String, Value>) {
    let Some(Value::Array(members)) = map.get("allOf") else { return };
    let (Some(first), rest) = (members.first(), &members[1..]) else { return };
    let annotation_only = |m: &Value| m.as_object().is_some_and(|o| o.keys().all(|k| ANNOTATIONS.contains(&k.as_str())));
    if first.get("$ref").is_none() || !rest.iter().all(annotation_only) {
        return;
    }
    let reference = first["$ref"].clone();
    let merged: Vec<(String, Value)> = rest.iter().flat_map(|m| m.as_object().cloned().unwrap_or_default()).collect();
    map.remove("allOf");
    map.insert("$ref".into(), reference);
    for (key, value) in merged {
        map.entry(key).or_insert(value);
    }
}

/// 3.0's `nullable: true` → a `"null"` type (or, beside a `$ref`, `anyOf` with null).
fn nullable(map: &mut Map<String, Value>) {
    if map.remove("nullable") != Some(Value::Bool(true)) {
        return;
    }
    if let Some(reference) = map.remove("$ref") {
        map.insert("anyOf".into(), json!([{"$ref": reference}, {"type": "null"}]));
        return;
    }
    match map.get_mut("type") {
        Some(Value::String(single)) => {
            let single = single.clone();
            map.insert("type".into(), json!([single, "null"]));
        }
        Some(Value::Array(types)) if !types.contains(&json!("null")) => types.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(values)) = map.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converted(mut v: Value) -> Value {
        walk(&mut v);
        v
    }

    #[test]
    fn nullable_values_and_references() {
        assert_eq!(converted(json!({"type": "string", "nullable": true, "maxLength": 3})), json!({"type": ["string", "null"], "maxLength": 3}));
        assert_eq!(
            converted(json!({"allOf": [{"$ref": "#/a"}, {"nullable": true}], "nullable": true})),
            json!({"anyOf": [{"$ref": "#/a"}, {"type": "null"}]})
        );
        assert_eq!(
            converted(json!({"allOf": [{"$ref": "#/a"}, {"description": "d"}], "description": "d"})),
            json!({"description": "d", "$ref": "#/a"})
        );
        assert_eq!(converted(json!({"$ref": "#/a", "nullable": true, "description": "d"})), json!({"description": "d", "anyOf": [{"$ref": "#/a"}, {"type": "null"}]}));
        // A real composition stays.
        let both = json!({"allOf": [{"$ref": "#/a"}, {"$ref": "#/b"}]});
        assert_eq!(converted(both.clone()), both);
        assert_eq!(converted(json!({"type": "string", "nullable": false})), json!({"type": "string"}));
    }
}
