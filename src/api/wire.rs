//! JSON scalar types the dialects share: RFC 3339 UTC timestamps with `Z`,
//! and 64-bit integers carried as strings (as protobuf's JSON mapping does).

use std::borrow::Cow;

use chrono::SecondsFormat;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;

use crate::domain::Timestamp;

/// The `Type` boilerplate of a scalar: its name and schema; the value is
/// its own raw value.
macro_rules! scalar_type {
    ($ty:ty, $name:literal, $schema:expr) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new($schema))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }
    };
}

scalar_type!(
    Rfc3339,
    "string_date-time",
    MetaSchema::new_with_format("string", "date-time")
);
scalar_type!(U64String, "string_uint64", {
    let mut schema = MetaSchema::new_with_format("string", "uint64");
    schema.pattern = Some("^[0-9]{1,20}$".to_owned());
    schema.example = Some(Value::String("0".to_owned()));
    schema
});
scalar_type!(Base64Bytes, "string_byte", {
    let mut schema = MetaSchema::new_with_format("string", "byte");
    // The base64 text of the largest metadata value.
    schema.max_length = Some(crate::domain::limits::MAX_METADATA_VALUE_BASE64);
    schema
});

/// A timestamp: written as RFC 3339 in UTC with a `Z` suffix and only the
/// fractional digits needed; any RFC 3339 offset is accepted on input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfc3339(pub Timestamp);

impl Rfc3339 {
    pub fn format(t: Timestamp) -> String {
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    pub fn parse(s: &str) -> Option<Timestamp> {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| crate::clock::truncate(t.with_timezone(&chrono::Utc)))
    }
}

impl ParseFromJSON for Rfc3339 {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => Rfc3339::parse(&s)
                .map(Rfc3339)
                .ok_or_else(|| ParseError::custom("expected an RFC 3339 date-time")),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ParseFromParameter for Rfc3339 {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Rfc3339::parse(value)
            .map(Rfc3339)
            .ok_or_else(|| ParseError::custom("expected an RFC 3339 date-time"))
    }
}

impl ToJSON for Rfc3339 {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(Rfc3339::format(self.0)))
    }
}

/// An unsigned 64-bit integer, written as a decimal string; a string or a
/// number is accepted on input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct U64String(pub u64);

impl ParseFromJSON for U64String {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => s
                .parse()
                .map(U64String)
                .map_err(|_| ParseError::custom("expected an unsigned 64-bit integer")),
            Value::Number(n) => n
                .as_u64()
                .map(U64String)
                .ok_or_else(|| ParseError::custom("expected an unsigned 64-bit integer")),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for U64String {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_z() {
        let t = Rfc3339::parse("2023-06-14T07:32:39.007096+02:00").unwrap();
        assert_eq!(Rfc3339::format(t), "2023-06-14T05:32:39.007096Z");
        let whole = Rfc3339::parse("2023-06-14T05:32:39Z").unwrap();
        assert_eq!(Rfc3339::format(whole), "2023-06-14T05:32:39Z");
    }

    #[test]
    fn u64_accepts_strings_and_numbers() {
        assert_eq!(
            U64String::parse_from_json(Some(Value::String("18446744073709551615".into()))).unwrap(),
            U64String(u64::MAX)
        );
        assert_eq!(
            U64String::parse_from_json(Some(serde_json::json!(7))).unwrap(),
            U64String(7)
        );
        assert!(U64String::parse_from_json(Some(serde_json::json!(-1))).is_err());
        assert_eq!(U64String(5).to_json(), Some(Value::String("5".into())));
    }
}

/// Bytes written as standard base64 (`format: byte`). URL-safe and unpadded
/// input is accepted too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base64Bytes(pub Vec<u8>);

impl Base64Bytes {
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        use base64::Engine;
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(s.as_bytes()).ok())
    }

    pub fn encode(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

impl ParseFromJSON for Base64Bytes {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => Base64Bytes::decode(&s)
                .map(Base64Bytes)
                .ok_or_else(|| ParseError::custom("value is not valid base64")),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for Base64Bytes {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(Base64Bytes::encode(&self.0)))
    }
}

// Examples for path and query parameters, so that Swagger UI's "Try it
// out" has a value in every field. The ids name nothing that exists.

pub fn example_session_id() -> String {
    "01kbq3x7m2d8e9f0g1h2j3k4m5".to_owned()
}

pub fn example_optional_session_id() -> Option<String> {
    Some(example_session_id())
}

pub fn example_session_token() -> Option<String> {
    Some("Wm9vVG9rZW5FeGFtcGxlVmFsdWVGb3JTd2FnZ2VyVUk".to_owned())
}

pub fn example_login_name() -> Option<String> {
    Some("alice@example.com".to_owned())
}

pub fn example_id_store() -> Option<String> {
    Some("UserIdentityStore".to_owned())
}

pub fn example_user_id() -> String {
    "01kbq3x7m2d8e9f0g1h2j3k4n6".to_owned()
}

pub fn example_key_id() -> String {
    "01kbq3x7m2d8e9f0g1h2j3k4p7".to_owned()
}
