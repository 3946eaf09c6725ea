//! The documents under `openapi/` are the contract: the code must render
//! exactly them. After an intended API change, regenerate with
//! `cargo run -- openapi --out openapi` and review the diff.

use poem::http::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

fn documents() -> Vec<sessiond::api::docs::Document> {
    let config = sessiond::config::Config::for_tests("sqlite::memory:");
    let services = sessiond::startup::offline_services(&config).unwrap();
    sessiond::api::contract_documents(&services)
}

fn checked_in(name: &str, ext: &str) -> String {
    let path = format!("{}/openapi/{name}.{ext}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing contract document {path}"))
}

#[test]
fn code_serves_exactly_the_checked_in_documents() {
    for doc in documents() {
        assert!(
            doc.yaml == checked_in(doc.name, "yaml"),
            "openapi/{}.yaml differs from what the code serves; run `cargo run -- openapi --out openapi` and review",
            doc.name
        );
        assert!(
            doc.json == checked_in(doc.name, "json"),
            "openapi/{}.json differs from what the code serves",
            doc.name
        );
    }
}

#[test]
fn every_operation_is_fully_described() {
    let mut all_ids = std::collections::HashSet::new();
    for doc in documents() {
        // operationIds are unique within a document (OpenAPI 3.0 §4.7.10);
        // ZITADEL's versions reuse theirs across documents.
        let mut seen_ids = std::collections::HashSet::new();
        let spec: Value = serde_json::from_str(&doc.json).unwrap();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
                assert!(
                    seen_ids.insert(id.to_owned()),
                    "{}: duplicate operationId {id}",
                    doc.name
                );
                all_ids.insert(id.to_owned());
                assert!(op["summary"].is_string(), "{id} has no summary");
                assert!(op["description"].is_string(), "{id} has no description");
                let responses = op["responses"].as_object().unwrap();
                for status in ["400", "401", "403", "404", "413", "500", "503"] {
                    assert!(
                        responses.contains_key(status),
                        "{id} does not declare {status}"
                    );
                }
                for (status, resp) in responses {
                    if let Some(content) = resp.get("content") {
                        let schema = &content["application/json"]["schema"];
                        assert!(!schema.is_null(), "{id} {status} has no JSON schema");
                    }
                }
                assert!(
                    !op["security"].is_null(),
                    "{id} has no security requirement"
                );
            }
        }
    }
    for id in [
        "SessionService_CreateSession",
        "SessionService_ListSessions",
        "zitadel.session.v2.SessionService.CreateSession",
        "zitadel.session.v2beta.SessionService.ListSessions",
    ] {
        assert!(all_ids.contains(id), "{id} is not documented");
    }
}

#[test]
fn request_bodies_and_success_responses_have_examples() {
    for doc in documents() {
        let spec: Value = serde_json::from_str(&doc.json).unwrap();
        let schemas = &spec["components"]["schemas"];
        for (_, item) in spec["paths"].as_object().unwrap() {
            for (_, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                let mut refs = Vec::new();
                if let Some(body) = op.get("requestBody") {
                    refs.push(body["content"]["application/json"]["schema"].clone());
                }
                for (status, resp) in op["responses"].as_object().unwrap() {
                    if status.starts_with('2')
                        && let Some(content) = resp.get("content")
                    {
                        refs.push(content["application/json"]["schema"].clone());
                    }
                }
                for schema in refs {
                    // An array's example is its items' example.
                    let schema = if schema["type"] == "array" {
                        schema["items"].clone()
                    } else {
                        schema
                    };
                    let example = match schema["$ref"].as_str() {
                        Some(r) => {
                            schemas[r.trim_start_matches("#/components/schemas/")]["example"]
                                .clone()
                        }
                        None => schema["example"].clone(),
                    };
                    assert!(!example.is_null(), "{id}: {schema} has no example");
                }
            }
        }
    }
}

#[tokio::test]
async fn documents_are_served_and_listed_in_swagger_ui() {
    let app = TestApp::spawn().await;
    for doc in documents() {
        for ext in ["yaml", "json"] {
            let r = app
                .client
                .get(format!("/openapi/{}.{ext}", doc.name))
                .send()
                .await;
            r.assert_status_is_ok();
            let body = r.0.into_body().into_string().await.unwrap();
            assert_eq!(body, checked_in(doc.name, ext));
        }
    }
    let r = app.client.get("/swagger-ui/").send().await;
    r.assert_status_is_ok();
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "index.css",
    ] {
        let r = app.client.get(format!("/swagger-ui/{asset}")).send().await;
        r.assert_status_is_ok();
    }

    let init = app
        .client
        .get("/swagger-ui/swagger-initializer.js")
        .send()
        .await;
    let js = init.0.into_body().into_string().await.unwrap();
    for doc in documents() {
        assert!(
            js.contains(&format!("/openapi/{}.json", doc.name)),
            "{} missing from the selector",
            doc.name
        );
    }
    assert!(js.contains("\"persistAuthorization\": true"));
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
}

/// The example of a schema, following one `$ref`.
fn example_of<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            &spec["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]["example"]
        }
        None => &schema["example"],
    }
}

fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(object) => object.values().any(has_null),
        _ => false,
    }
}

#[test]
fn every_example_validates_against_its_own_schema() {
    use sessiond::api::schema::DocumentSchemas;
    let mut checked = 0;
    for doc in documents() {
        let spec: Value = serde_json::from_str(&doc.json).unwrap();
        let schemas = DocumentSchemas::new(&spec);
        for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
            let Some(example) = schema.get("example") else {
                continue;
            };
            assert!(
                !has_null(example),
                "{}: {name}'s example has a null",
                doc.name
            );
            let compiled = schemas.compile(schema).unwrap();
            if let Err(problem) = compiled.check_at(example, "example") {
                panic!(
                    "{}: {name}'s example breaks its schema: {problem}",
                    doc.name
                );
            }
            checked += 1;
        }
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (_, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                for param in op["parameters"].as_array().into_iter().flatten() {
                    let name = param["name"].as_str().unwrap();
                    let example = &param["example"];
                    assert!(
                        !example.is_null(),
                        "{id} {path}: parameter {name} has no example"
                    );
                    let compiled = schemas.compile(&param["schema"]).unwrap();
                    if let Err(problem) = compiled.check_at(example, name) {
                        panic!("{id}: the example of {name} breaks its schema: {problem}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} examples found");
}

/// Builds each operation's request from its documented examples alone.
fn example_request(spec: &Value, path: &str, op: &Value) -> (String, Option<Value>) {
    let mut uri = path.to_owned();
    let mut query = Vec::new();
    for param in op["parameters"].as_array().into_iter().flatten() {
        let name = param["name"].as_str().unwrap();
        let value = match &param["example"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match param["in"].as_str().unwrap() {
            "path" => uri = uri.replace(&format!("{{{name}}}"), &value),
            "query" => query.push(format!("{name}={value}")),
            other => panic!("parameter in {other}"),
        }
    }
    if !query.is_empty() {
        uri = format!("{uri}?{}", query.join("&"));
    }
    let body = op["requestBody"]["content"]["application/json"]["schema"]
        .as_object()
        .map(|_| {
            example_of(
                spec,
                &op["requestBody"]["content"]["application/json"]["schema"],
            )
            .clone()
        });
    (uri, body)
}

#[tokio::test]
async fn every_request_example_is_accepted_by_the_server() {
    let app = TestApp::spawn().await;
    // The examples name this user.
    app.create_user("alice@example.com", "correct horse battery staple")
        .await;
    let mut sent = 0;
    for doc in documents() {
        let spec: Value = serde_json::from_str(&doc.json).unwrap();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                let (uri, body) = example_request(&spec, path, op);
                if let Some(body) = &body {
                    assert!(!body.is_null(), "{id} has a body without an example");
                }
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let r = app.admin(method.clone(), &uri, body.clone()).await;
                // Examples may name sessions and keys that do not exist
                // (404) or a user that already does (409); they must never
                // fail validation or authentication, nor break the server.
                assert!(
                    !matches!(r.status.as_u16(), 400 | 401 | 413 | 500..),
                    "{id}: {method} {uri} with its example answered {}: {}",
                    r.status,
                    r.body
                );
                sent += 1;
            }
        }
    }
    assert!(sent >= 19, "only {sent} operations sent");
}

#[tokio::test]
async fn swagger_ui_can_be_told_not_to_keep_keys() {
    let app = TestApp::spawn_with(|c| c.swagger_ui_persist_authorization = false).await;
    let init = app
        .client
        .get("/swagger-ui/swagger-initializer.js")
        .send()
        .await;
    let js = init.0.into_body().into_string().await.unwrap();
    assert!(js.contains("\"persistAuthorization\": false"), "{js}");
}
