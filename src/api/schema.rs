//! A validator for the JSON Schema subset poem-openapi renders in OpenAPI
//! 3.0 documents: `$ref`, `allOf`/`oneOf`/`anyOf`, object, array, string,
//! integer, number and boolean with their usual bounds, `enum` and
//! `pattern`.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

pub struct Validator {
    components: Value,
    patterns: Mutex<HashMap<String, Option<regex::Regex>>>,
}

impl Validator {
    pub fn new(components: Value) -> Validator {
        Validator {
            components,
            patterns: Mutex::new(HashMap::new()),
        }
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => &self.components[r.trim_start_matches("#/components/schemas/")],
            None => schema,
        }
    }

    fn pattern_matches(&self, pattern: &str, text: &str) -> bool {
        let mut cache = self.patterns.lock().unwrap_or_else(|e| e.into_inner());
        let compiled = cache
            .entry(pattern.to_owned())
            .or_insert_with(|| regex::Regex::new(pattern).ok());
        compiled.as_ref().is_none_or(|re| re.is_match(text))
    }
}

/// Checks `value` against `schema`; the error names the offending field.
pub fn validate(v: &Validator, value: &Value, schema: &Value) -> Result<(), String> {
    check(v, value, schema, "body")
}

fn check(v: &Validator, value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let schema = v.resolve(schema);
    if value.is_null() {
        return if schema["nullable"].as_bool() == Some(true) {
            Ok(())
        } else {
            Err(format!("{at}: must not be null"))
        };
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(v, value, part, at)?;
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let matching = options
            .iter()
            .filter(|o| check(v, value, o, at).is_ok())
            .count();
        if matching != 1 {
            let names: Vec<String> = options
                .iter()
                .flat_map(|o| {
                    v.resolve(o)["required"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect();
            return Err(if names.is_empty() {
                format!("{at}: must match exactly one of the allowed forms")
            } else {
                format!("{at}: exactly one of {} must be set", names.join(", "))
            });
        }
    }
    if let Some(options) = schema["anyOf"].as_array()
        && !options.iter().any(|o| check(v, value, o, at).is_ok())
    {
        return Err(format!("{at}: matches none of the allowed forms"));
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at}: not one of the allowed values"));
    }
    match schema["type"].as_str() {
        Some("object") => object(v, value, schema, at),
        Some("array") => array(v, value, schema, at),
        Some("string") => string(v, value, schema, at),
        Some("integer") => integer(value, schema, at),
        Some("number") => number(value, schema, at),
        Some("boolean") if !value.is_boolean() => Err(format!("{at}: expected a boolean")),
        _ => Ok(()),
    }
}

fn object(v: &Validator, value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let Some(map) = value.as_object() else {
        return Err(format!("{at}: expected an object"));
    };
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        if !map.contains_key(name) {
            return Err(format!("{at}.{name}: is required"));
        }
    }
    let declared = schema["properties"].as_object();
    for (key, item) in map {
        let path = format!("{at}.{key}");
        match declared.and_then(|d| d.get(key)) {
            Some(property) => check(v, item, property, &path)?,
            None => match &schema["additionalProperties"] {
                Value::Object(_) => check(v, item, &schema["additionalProperties"], &path)?,
                Value::Bool(false) => return Err(format!("{path}: is not allowed")),
                _ => {} // unknown fields are ignored
            },
        }
    }
    if let Some(min) = schema["minProperties"].as_u64()
        && (map.len() as u64) < min
    {
        return Err(format!("{at}: needs at least {min} properties"));
    }
    Ok(())
}

fn array(v: &Validator, value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let Some(items) = value.as_array() else {
        return Err(format!("{at}: expected an array"));
    };
    if let Some(min) = schema["minItems"].as_u64()
        && (items.len() as u64) < min
    {
        return Err(format!("{at}: needs at least {min} items"));
    }
    if let Some(max) = schema["maxItems"].as_u64()
        && (items.len() as u64) > max
    {
        return Err(format!("{at}: allows at most {max} items"));
    }
    for (i, item) in items.iter().enumerate() {
        check(v, item, &schema["items"], &format!("{at}[{i}]"))?;
    }
    Ok(())
}

fn string(v: &Validator, value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let Some(text) = value.as_str() else {
        return Err(format!("{at}: expected a string"));
    };
    let len = text.chars().count() as u64;
    if let Some(min) = schema["minLength"].as_u64()
        && len < min
    {
        return Err(format!("{at}: must be at least {min} characters"));
    }
    if let Some(max) = schema["maxLength"].as_u64()
        && len > max
    {
        return Err(format!("{at}: must be at most {max} characters"));
    }
    if let Some(pattern) = schema["pattern"].as_str()
        && !v.pattern_matches(pattern, text)
    {
        return Err(format!("{at}: does not match {pattern}"));
    }
    match schema["format"].as_str() {
        Some("date-time") if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
            Err(format!("{at}: expected an RFC 3339 date-time"))
        }
        Some("byte") if super::wire::Base64Bytes::decode(text).is_none() => {
            Err(format!("{at}: expected base64"))
        }
        _ => Ok(()),
    }
}

fn integer(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let as_f64 = value.as_f64();
    let whole = value.is_i64() || value.is_u64();
    if !whole {
        return Err(format!("{at}: expected an integer"));
    }
    let n = as_f64.unwrap_or_default();
    let (lo, hi) = match schema["format"].as_str() {
        Some("int32") => (i32::MIN as f64, i32::MAX as f64),
        Some("uint32") => (0.0, u32::MAX as f64),
        Some("uint64") => (0.0, u64::MAX as f64),
        _ => (i64::MIN as f64, i64::MAX as f64),
    };
    if n < lo || n > hi {
        return Err(format!("{at}: out of range"));
    }
    bounds(n, schema, at)
}

fn number(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let Some(n) = value.as_f64() else {
        return Err(format!("{at}: expected a number"));
    };
    bounds(n, schema, at)
}

fn bounds(n: f64, schema: &Value, at: &str) -> Result<(), String> {
    if let Some(min) = schema["minimum"].as_f64()
        && n < min
    {
        return Err(format!("{at}: must be at least {min}"));
    }
    if let Some(max) = schema["maximum"].as_f64()
        && n > max
    {
        return Err(format!("{at}: must be at most {max}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rejects_what_the_schema_does_not_allow() {
        let v = Validator::new(
            json!({"Thing": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "minLength": 1},
                "n": {"type": "integer", "format": "uint32"},
                "tags": {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}}
            }}}),
        );
        let schema = json!({"$ref": "#/components/schemas/Thing"});
        assert!(validate(&v, &json!({"name": "x", "extra": 1}), &schema).is_ok());
        assert_eq!(
            validate(&v, &json!({"name": false}), &schema),
            Err("body.name: expected a string".into())
        );
        assert_eq!(
            validate(&v, &json!({}), &schema),
            Err("body.name: is required".into())
        );
        assert_eq!(
            validate(&v, &json!({"name": "x", "n": null}), &schema),
            Err("body.n: must not be null".into())
        );
        assert_eq!(
            validate(&v, &json!({"name": "x", "n": -1}), &schema),
            Err("body.n: out of range".into())
        );
        assert_eq!(
            validate(&v, &json!({"name": "x", "tags": {"a": "***"}}), &schema),
            Err("body.tags.a: expected base64".into())
        );
    }
}
