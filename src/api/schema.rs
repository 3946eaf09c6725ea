//! JSON bodies checked against a contract document's schemas with the
//! `jsonschema` crate. OpenAPI 3.0 schema objects are read as JSON Schema
//! draft 4 (the same `exclusiveMinimum` and `$ref` rules); `nullable` is not
//! used by any document, so `null` is only valid where a schema allows it.
//! Errors name the field and the rule, never the value sent, so a rejected
//! password is not echoed back.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, JsonType, Validator};
use serde_json::{Value, json};

/// The `components` of one document, from which any of its schemas can be
/// compiled.
pub struct DocumentSchemas {
    components: Value,
}

/// One compiled schema, with the document's components beside it so that
/// `#/components/schemas/…` references resolve.
pub struct CompiledSchema {
    validator: Validator,
    root: Value,
}

impl DocumentSchemas {
    pub fn new(document: &Value) -> DocumentSchemas {
        DocumentSchemas {
            components: document["components"].clone(),
        }
    }

    pub fn compile(&self, schema: &Value) -> Result<CompiledSchema, String> {
        let root = json!({"components": self.components, "allOf": [schema]});
        let validator = jsonschema::options()
            .with_draft(Draft::Draft4)
            .should_validate_formats(true)
            .with_format("date-time", |s: &str| {
                chrono::DateTime::parse_from_rfc3339(s).is_ok()
            })
            .with_format("byte", |s: &str| {
                super::wire::Base64Bytes::decode(s).is_some()
            })
            .build(&root)
            .map_err(|e| format!("schema does not compile: {e}"))?;
        Ok(CompiledSchema { validator, root })
    }
}

impl CompiledSchema {
    /// Checks a request body; the error names the first offending field,
    /// written from `body` (`body.checks.user`).
    pub fn check(&self, value: &Value) -> Result<(), String> {
        self.check_at(value, "body")
    }

    /// The same, for any value, naming fields from `at`.
    pub fn check_at(&self, value: &Value, at: &str) -> Result<(), String> {
        match self.validator.iter_errors(value).next() {
            None => Ok(()),
            Some(error) => {
                let mut field = field_path(at, &error.instance_path().to_string());
                if let ValidationErrorKind::Required { property } = error.kind() {
                    // Named after the missing field, as `body.userId`.
                    field = format!("{field}.{}", property.as_str().unwrap_or("?"));
                }
                Err(format!(
                    "{field}: {}",
                    self.describe(
                        error.kind(),
                        error.instance(),
                        &error.schema_path().to_string()
                    )
                ))
            }
        }
    }

    fn describe(&self, kind: &ValidationErrorKind, instance: &Value, schema_path: &str) -> String {
        use ValidationErrorKind as K;
        match kind {
            K::Type { .. } if instance.is_null() => "must not be null".into(),
            K::Type { kind } => match kind {
                TypeKind::Single(t) => format!("expected {}", a_type(*t)),
                TypeKind::Multiple(_) => "has the wrong type".into(),
            },
            K::Required { .. } => "is required".into(),
            K::MinLength { limit } => format!("must be at least {limit} characters"),
            K::MaxLength { limit } => format!("must be at most {limit} characters"),
            K::Pattern { pattern } => format!("does not match {pattern}"),
            K::Format { format } => match format.as_str() {
                "date-time" => "expected an RFC 3339 date-time".into(),
                "byte" => "expected base64".into(),
                other => format!("expected the {other} format"),
            },
            K::Enum { .. } => "not one of the allowed values".into(),
            K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => {
                match self.one_of_fields(schema_path) {
                    Some(fields) => format!("exactly one of {fields} must be set"),
                    None => "must match exactly one of the allowed forms".into(),
                }
            }
            K::AnyOf { .. } => "matches none of the allowed forms".into(),
            K::MinItems { limit } => format!("needs at least {limit} items"),
            K::MaxItems { limit } => format!("allows at most {limit} items"),
            K::MinProperties { limit } => format!("needs at least {limit} properties"),
            K::MaxProperties { limit } => format!("allows at most {limit} properties"),
            K::Minimum { limit } => format!("must be at least {limit}"),
            K::Maximum { limit } => format!("must be at most {limit}"),
            K::AdditionalProperties { unexpected } => {
                format!("{} is not allowed", unexpected.join(", "))
            }
            _ => "is not valid".into(),
        }
    }

    /// For a `oneOf` whose branches each require one field (the user
    /// check), the names of those fields: "userId, loginName".
    fn one_of_fields(&self, schema_path: &str) -> Option<String> {
        let branches = self.root.pointer(schema_path)?.as_array()?;
        let mut names = Vec::new();
        for branch in branches {
            let branch = match branch["$ref"].as_str() {
                Some(r) => self.root.pointer(r.trim_start_matches('#'))?,
                None => branch,
            };
            match branch["required"].as_array()?.as_slice() {
                [Value::String(name)] => names.push(name.clone()),
                _ => return None,
            }
        }
        Some(names.join(", "))
    }
}

fn a_type(t: JsonType) -> &'static str {
    match t {
        JsonType::Array => "an array",
        JsonType::Boolean => "a boolean",
        JsonType::Integer => "an integer",
        JsonType::Null => "null",
        JsonType::Number => "a number",
        JsonType::Object => "an object",
        JsonType::String => "a string",
    }
}

/// `/checks/user` from `body` → `body.checks.user`; `/queries/0` →
/// `body.queries[0]`.
fn field_path(at: &str, pointer: &str) -> String {
    let mut out = at.to_owned();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            out.push('.');
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn thing() -> CompiledSchema {
        let document = json!({"components": {"schemas": {
            "Thing": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "minLength": 1},
                "secret": {"type": "string", "maxLength": 3},
                "tags": {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
                "at": {"type": "string", "format": "date-time"},
                "list": {"type": "array", "items": {"type": "integer"}},
                "who": {"oneOf": [{"$ref": "#/components/schemas/ById"}, {"$ref": "#/components/schemas/ByName"}]},
            }},
            "ById": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
            "ByName": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        }}});
        DocumentSchemas::new(&document)
            .compile(&json!({"$ref": "#/components/schemas/Thing"}))
            .unwrap()
    }

    #[test]
    fn rejects_what_the_schema_does_not_allow_and_names_the_field() {
        let s = thing();
        assert!(s.check(&json!({"name": "x", "extra": 1})).is_ok());
        let cases = [
            (json!({"name": false}), "body.name: expected a string"),
            (json!({}), "body.name: is required"),
            (
                json!({"name": "x", "at": null}),
                "body.at: must not be null",
            ),
            (
                json!({"name": "x", "tags": {"a": "***"}}),
                "body.tags.a: expected base64",
            ),
            (
                json!({"name": "x", "at": "yesterday"}),
                "body.at: expected an RFC 3339 date-time",
            ),
            (
                json!({"name": "x", "list": [1, "2"]}),
                "body.list[1]: expected an integer",
            ),
            (
                json!({"name": "x", "who": {}}),
                "body.who: exactly one of id, name must be set",
            ),
            (
                json!({"name": "x", "who": {"id": "a", "name": "b"}}),
                "body.who: exactly one of id, name must be set",
            ),
        ];
        for (value, message) in cases {
            assert_eq!(s.check(&value), Err(message.to_owned()), "{value}");
        }
    }

    #[test]
    fn a_rejected_value_is_not_echoed() {
        let err = thing()
            .check(&json!({"name": "x", "secret": "hunter2"}))
            .unwrap_err();
        assert_eq!(err, "body.secret: must be at most 3 characters");
    }
}
