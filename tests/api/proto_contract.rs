//! The proto files (binary transports) and the v2 / v2beta OpenAPI
//! documents (JSON routes) are one contract: every documented message
//! example is the protojson form of its proto message, and the protojson
//! form of every sample message matches its documented schema.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sessiond::api::rpc::proto::zitadel::session::{v2, v2beta};
use sessiond::api::schema::DocumentSchemas;

fn document(name: &str) -> Value {
    let path = format!("{}/openapi/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// protojson leaves zero values out; an example may spell them.
fn without_zero_values(value: &Value) -> Option<Value> {
    match value {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() || s == "0" => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|v| without_zero_values(v).unwrap_or(Value::Object(Default::default())))
                .collect(),
        )),
        Value::Object(fields) => {
            let kept: serde_json::Map<String, Value> = fields
                .iter()
                .filter_map(|(k, v)| without_zero_values(v).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        other => Some(other.clone()),
    }
}

/// The example of schema `name` parses as `T`, renders back to itself,
/// survives the binary encoding, and the rendering matches the schema.
fn check<T>(doc: &Value, schemas: &DocumentSchemas, name: &str)
where
    T: buffa::Message + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let schema = &doc["components"]["schemas"][name];
    let example = &schema["example"];
    assert!(!example.is_null(), "{name} has no example");
    let message: T = serde_json::from_value(example.clone())
        .unwrap_or_else(|e| panic!("{name}'s example is not a {name}: {e}"));
    let rendered = serde_json::to_value(&message).unwrap();
    assert_eq!(
        without_zero_values(&rendered),
        without_zero_values(example),
        "{name}: the example names a field the proto does not have, or spells one differently"
    );
    let binary = T::decode_from_slice(&message.encode_to_vec()).unwrap();
    assert_eq!(binary, message, "{name}: the binary form loses something");
    schemas
        .compile(schema)
        .unwrap()
        .check_at(&rendered, name)
        .unwrap_or_else(|problem| panic!("{name}: protojson breaks the schema: {problem}"));
}

macro_rules! check_messages {
    ($doc:expr, $pkg:ident) => {{
        let doc = document($doc);
        let schemas = DocumentSchemas::new(&doc);
        check::<$pkg::CreateSessionRequest>(&doc, &schemas, "CreateSessionRequest");
        check::<$pkg::CreateSessionResponse>(&doc, &schemas, "CreateSessionResponse");
        check::<$pkg::GetSessionRequest>(&doc, &schemas, "GetSessionRequest");
        check::<$pkg::GetSessionResponse>(&doc, &schemas, "GetSessionResponse");
        check::<$pkg::SetSessionRequest>(&doc, &schemas, "SetSessionRequest");
        check::<$pkg::SetSessionResponse>(&doc, &schemas, "SetSessionResponse");
        check::<$pkg::DeleteSessionRequest>(&doc, &schemas, "DeleteSessionRequest");
        check::<$pkg::DeleteSessionResponse>(&doc, &schemas, "DeleteSessionResponse");
        check::<$pkg::ListSessionsRequest>(&doc, &schemas, "ListSessionsRequest");
        check::<$pkg::ListSessionsResponse>(&doc, &schemas, "ListSessionsResponse");
    }};
}

#[test]
fn v2_examples_are_protojson_of_the_v2_protos() {
    check_messages!("zitadel-session-v2", v2);
}

#[test]
fn v2beta_examples_are_protojson_of_the_v2beta_protos() {
    check_messages!("zitadel-session-v2beta", v2beta);
}

/// Every field of every documented message is a field of its proto
/// message under its JSON name, and the other way round.
#[test]
fn documented_properties_are_the_proto_fields() {
    use buffa_descriptor::DescriptorPool;
    let pool = DescriptorPool::decode(sessiond::api::rpc::proto::DESCRIPTOR_SET).unwrap();
    for (doc_name, package) in [
        ("zitadel-session-v2", "zitadel.session.v2"),
        ("zitadel-session-v2beta", "zitadel.session.v2beta"),
    ] {
        let doc = document(doc_name);
        let mut checked = 0;
        for message in pool.messages() {
            let full = message.full_name();
            if !full.starts_with(&format!("{package}.")) {
                continue;
            }
            let name: String = full
                .split('.')
                .filter(|p| p.starts_with(|c: char| c.is_ascii_uppercase()))
                .collect();
            let schema = &doc["components"]["schemas"][&name];
            if schema.is_null() {
                continue; // not reachable from the five RPCs
            }
            let mut documented: Vec<&str> = schema["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            // Less the fields sessiond does not serve (refused on input,
            // never set on output).
            let unsupported = sessiond::api::rpc::openapi::UNSUPPORTED_FIELDS;
            let mut fields: Vec<&str> = message
                .fields()
                .iter()
                .map(|f| f.json_name())
                .filter(|f| !unsupported.contains(&(name.as_str(), *f)))
                .collect();
            documented.sort_unstable();
            fields.sort_unstable();
            assert_eq!(documented, fields, "{doc_name}: {name}");
            checked += 1;
        }
        assert!(
            checked >= 20,
            "{doc_name}: only {checked} messages compared"
        );
    }
}
