//! The one place where a rendered contract document is adjusted before it
//! is checked in and served. poem-openapi renders some shapes that are valid
//! OpenAPI 3.0 but trip popular generators and Swagger UI; each rule below
//! says which tool it is for. Everything else is rendered from the Rust
//! types as it is.

use serde_json::{Map, Value};

/// The media type poem-openapi writes for JSON bodies.
const RENDERED_JSON: &str = "application/json; charset=utf-8";

/// Applies every rule to a whole document.
pub fn finish(document: &mut Value) {
    walk(document, &mut |node| {
        plain_json_media_type(node);
        unwrap_described_ref(node);
        drop_empty_array_default(node);
        parameter_example(node);
    });
    for example in examples_mut(document) {
        strip_nulls(example);
    }
}

fn walk(node: &mut Value, rule: &mut impl FnMut(&mut Map<String, Value>)) {
    match node {
        Value::Object(object) => {
            rule(object);
            for child in object.values_mut() {
                walk(child, rule);
            }
        }
        Value::Array(items) => {
            for child in items {
                walk(child, rule);
            }
        }
        _ => {}
    }
}

/// `content: {"application/json; charset=utf-8": …}` becomes
/// `application/json`: generated TypeScript types are looked up as
/// `["content"]["application/json"]`, and the server's answer, which still
/// names the charset, has that media type.
fn plain_json_media_type(node: &mut Map<String, Value>) {
    let Some(Value::Object(content)) = node.get_mut("content") else {
        return;
    };
    if let Some(media) = content.shift_remove(RENDERED_JSON) {
        content.insert("application/json".to_owned(), media);
    }
}

/// A field with its own description is rendered as
/// `allOf: [{$ref}, {description}]`. openapi-python-client cannot take
/// `allOf` of a non-object (an enum) and drops every operation that uses
/// it; a plain `$ref` with the description beside it is read by all tools.
fn unwrap_described_ref(node: &mut Map<String, Value>) {
    let Some(Value::Array(parts)) = node.get("allOf") else {
        return;
    };
    let [reference, extra] = parts.as_slice() else {
        return;
    };
    let (Some(reference), Some(extra)) = (reference.as_object(), extra.as_object()) else {
        return;
    };
    let only_ref = reference.len() == 1 && reference.contains_key("$ref");
    let only_notes = extra.keys().all(|k| {
        matches!(
            k.as_str(),
            "description" | "title" | "readOnly" | "writeOnly"
        )
    });
    if !(only_ref && only_notes) {
        return;
    }
    let (reference, extra) = (reference.clone(), extra.clone());
    node.shift_remove("allOf");
    for (k, v) in reference.into_iter().chain(extra) {
        node.insert(k, v);
    }
}

/// `default: []` on an array the server leaves out when empty makes
/// openapi-typescript type the field as always present, so typed code reads
/// `undefined` as an array.
fn drop_empty_array_default(node: &mut Map<String, Value>) {
    if node.get("type").and_then(Value::as_str) == Some("array")
        && node.get("default") == Some(&Value::Array(vec![]))
    {
        node.shift_remove("default");
    }
}

/// poem-openapi puts a parameter's example inside its schema; Swagger UI
/// fills "Try it out" fields from the parameter's own `example`.
fn parameter_example(node: &mut Map<String, Value>) {
    let is_parameter = node.contains_key("in") && node.contains_key("name");
    if !is_parameter || node.contains_key("example") {
        return;
    }
    if let Some(example) = node.get("schema").and_then(|s| s.get("example")).cloned() {
        node.insert("example".to_owned(), example);
    }
}

/// Examples are rendered from the Rust example values, where an absent
/// field is `None` and comes out as `null`. No schema here is nullable, and
/// Swagger UI sends examples as they are, so absent means left out.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.retain(|_, v| !v.is_null());
            object.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Every `example` value in the document: in schemas, parameters and
/// media types.
fn examples_mut(document: &mut Value) -> Vec<&mut Value> {
    let mut found = Vec::new();
    collect_examples(document, &mut found);
    found
}

fn collect_examples<'a>(node: &'a mut Value, found: &mut Vec<&'a mut Value>) {
    match node {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if key == "example" {
                    found.push(child);
                } else {
                    collect_examples(child, found);
                }
            }
        }
        Value::Array(items) => {
            for child in items {
                collect_examples(child, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_apply_where_they_should_and_nowhere_else() {
        let mut doc = json!({
            "paths": {"/x": {"post": {
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "string", "example": "e"}}],
                "requestBody": {"content": {RENDERED_JSON: {"schema": {"$ref": "#/components/schemas/A"}}}},
            }}},
            "components": {"schemas": {"A": {
                "type": "object",
                "properties": {
                    "kind": {"allOf": [{"$ref": "#/components/schemas/K"}, {"description": "d"}]},
                    "both": {"allOf": [{"$ref": "#/components/schemas/K"}, {"$ref": "#/components/schemas/L"}]},
                    "list": {"type": "array", "items": {"type": "string"}, "default": []},
                    "full": {"type": "array", "items": {"type": "string"}, "default": ["a"]},
                },
                "example": {"kind": "k", "list": null, "nested": {"x": null, "y": 1}},
            }}},
        });
        finish(&mut doc);
        assert_eq!(doc["paths"]["/x"]["post"]["parameters"][0]["example"], "e");
        let content = &doc["paths"]["/x"]["post"]["requestBody"]["content"];
        assert!(content.get(RENDERED_JSON).is_none());
        assert!(content["application/json"]["schema"].is_object());
        let props = &doc["components"]["schemas"]["A"]["properties"];
        assert_eq!(
            props["kind"],
            json!({"$ref": "#/components/schemas/K", "description": "d"})
        );
        assert_eq!(props["both"]["allOf"].as_array().unwrap().len(), 2);
        assert!(props["list"].get("default").is_none());
        assert_eq!(props["full"]["default"], json!(["a"]));
        assert_eq!(
            doc["components"]["schemas"]["A"]["example"],
            json!({"kind": "k", "nested": {"y": 1}})
        );
    }
}
