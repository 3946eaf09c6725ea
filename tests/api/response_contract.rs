//! Every response a test receives is checked against the checked-in
//! contract documents: its status must be documented for the operation,
//! its body must match the documented schema for that status, and every
//! header the document marks as required must be present. A request to a
//! dialect's path that no operation serves (a wrong method, say) must still
//! answer in the dialect's error shape.

use std::collections::HashMap;
use std::sync::OnceLock;

use poem::http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use sessiond::api::schema::{CompiledSchema, DocumentSchemas};

/// Each document, or the part of it under one first path segment where a
/// document spans two kinds of routes (REST gateway and Connect).
const DOCUMENTS: [(&str, Option<&str>); 7] = [
    ("zitadel-session-v2alpha", None),
    ("zitadel-session-v2", Some("v2")),
    (
        "zitadel-session-v2",
        Some("zitadel.session.v2.SessionService"),
    ),
    ("zitadel-session-v2beta", Some("v2beta")),
    (
        "zitadel-session-v2beta",
        Some("zitadel.session.v2beta.SessionService"),
    ),
    ("oam-session-v1", None),
    ("admin-v1", None),
];

struct Response {
    schema: Option<CompiledSchema>,
    required_headers: Vec<String>,
}

struct Operation {
    segments: Vec<Option<String>>,
    method: Method,
    responses: HashMap<u16, Response>,
    /// The `default` answer, for any status not listed.
    default: Option<Response>,
}

struct Document {
    name: &'static str,
    /// The path prefix every operation of the document shares.
    prefix: String,
    operations: Vec<Operation>,
    /// The schema of the document's error bodies (its 500 answer).
    error: CompiledSchema,
}

fn documents() -> &'static [Document] {
    static DOCS: OnceLock<Vec<Document>> = OnceLock::new();
    DOCS.get_or_init(|| {
        DOCUMENTS
            .iter()
            .map(|(name, segment)| load(name, *segment))
            .collect()
    })
}

fn load(name: &'static str, first_segment: Option<&str>) -> Document {
    let path = format!("{}/openapi/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let schemas = DocumentSchemas::new(&spec);
    let mut operations = Vec::new();
    let mut error = None;
    let mut templates = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        if first_segment
            .is_some_and(|s| template.trim_start_matches('/').split('/').next() != Some(s))
        {
            continue;
        }
        templates.push(template.clone());
        let segments: Vec<Option<String>> = template
            .trim_matches('/')
            .split('/')
            .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut responses = HashMap::new();
            let mut default = None;
            for (status, resp) in op["responses"].as_object().unwrap() {
                let schema = resp["content"].as_object().map(|content| {
                    let media = content
                        .get("application/json")
                        .unwrap_or_else(|| panic!("{name}: {template} {status} is not JSON"));
                    schemas.compile(&media["schema"]).unwrap()
                });
                let required_headers = resp["headers"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, h)| h["required"] == true)
                    .map(|(h, _)| h.to_lowercase())
                    .collect();
                if status == "500" && error.is_none() {
                    error = Some(
                        schemas
                            .compile(&resp["content"]["application/json"]["schema"])
                            .unwrap(),
                    );
                }
                let response = Response {
                    schema,
                    required_headers,
                };
                if status == "default" {
                    default = Some(response);
                } else {
                    responses.insert(status.parse().unwrap(), response);
                }
            }
            operations.push(Operation {
                segments: segments.clone(),
                method,
                responses,
                default,
            });
        }
    }
    Document {
        name,
        prefix: common_prefix(&templates),
        operations,
        error: error.unwrap_or_else(|| panic!("{name} documents no 500")),
    }
}

fn common_prefix(templates: &[String]) -> String {
    let first: Vec<&str> = templates[0].split('/').collect();
    let mut len = first.len();
    for t in templates {
        let parts: Vec<&str> = t.split('/').collect();
        len = len.min(first.iter().zip(&parts).take_while(|(a, b)| a == b).count());
    }
    first[..len].join("/")
}

fn matches(op: &Operation, parts: &[&str]) -> Option<usize> {
    if op.segments.len() != parts.len() {
        return None;
    }
    let mut literals = 0;
    for (segment, part) in op.segments.iter().zip(parts) {
        match segment {
            Some(literal) if literal == part => literals += 1,
            Some(_) => return None,
            None if part.is_empty() => return None,
            None => {}
        }
    }
    Some(literals)
}

/// Checks one response; panics with the reason when it breaks the contract.
pub fn check(method: &Method, uri: &str, status: StatusCode, headers: &HeaderMap, body: &[u8]) {
    let path = uri.split('?').next().unwrap_or_default();
    let Some(doc) = documents()
        .iter()
        .find(|d| path == d.prefix || path.starts_with(&format!("{}/", d.prefix)))
    else {
        return; // health checks, documents, Swagger UI: not part of a dialect
    };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    // The most literal path wins, as the server routes it; then the method.
    let best = doc
        .operations
        .iter()
        .filter_map(|op| matches(op, &parts))
        .max();
    let operation = doc
        .operations
        .iter()
        .filter(|op| op.method == *method)
        .find(|op| best.is_some() && matches(op, &parts) == best);
    let value = parse(doc.name, method, uri, status, body);
    let Some(operation) = operation else {
        // No operation serves this: the answer is still a dialect error.
        let value =
            value.unwrap_or_else(|| panic!("{}: {method} {uri} → {status} has no body", doc.name));
        if let Err(problem) = doc.error.check_at(&value, "response") {
            panic!(
                "{}: {method} {uri} → {status} is not a dialect error: {problem}\n{value}",
                doc.name
            );
        }
        return;
    };
    let Some(documented) = operation
        .responses
        .get(&status.as_u16())
        .or(operation.default.as_ref())
    else {
        panic!(
            "{}: {method} {uri} answered {status}, which the document does not list",
            doc.name
        );
    };
    for header in &documented.required_headers {
        assert!(
            headers.contains_key(header.as_str()),
            "{}: {method} {uri} → {status} lacks the documented header {header}",
            doc.name
        );
    }
    match (&documented.schema, value) {
        (Some(schema), Some(value)) => {
            if let Err(problem) = schema.check_at(&value, "response") {
                panic!(
                    "{}: {method} {uri} → {status} breaks its schema: {problem}\n{value}",
                    doc.name
                );
            }
        }
        (Some(_), None) => panic!(
            "{}: {method} {uri} → {status} has no body, but the document gives one",
            doc.name
        ),
        (None, Some(value)) => panic!(
            "{}: {method} {uri} → {status} has a body the document does not give: {value}",
            doc.name
        ),
        (None, None) => {}
    }
}

fn parse(doc: &str, method: &Method, uri: &str, status: StatusCode, body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    Some(serde_json::from_slice(body).unwrap_or_else(|_| {
        panic!(
            "{doc}: {method} {uri} → {status} is not JSON: {}",
            String::from_utf8_lossy(body)
        )
    }))
}
