//! Property test: arbitrary JSON bodies and arbitrary path segments thrown at
//! every operation of every document never panic the server and never get
//! a 5xx. Every answer also passes the contract check of the harness, so it
//! is a documented status in the dialect's shape.

use poem::http::Method;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::helpers::TestApp;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::String),
        // Numbers as strings, where the documents take 64-bit integers.
        "[0-9]{1,25}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Field names the documents use, and some they do not.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "checks",
            "user",
            "password",
            "userId",
            "loginName",
            "metadata",
            "sessionToken",
            "query",
            "offset",
            "limit",
            "asc",
            "queries",
            "idsQuery",
            "ids",
            "clientIp",
            "userAttributes",
            "attrValue",
            "attrEncoding",
            "expiryTime",
            "lastAccessTime",
            "isImpersonating",
            "name",
            "permissions",
            "displayName",
            "idStoreName",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
    ]
}

/// A path segment: text, percent-encoded bytes (not always UTF-8), or empty.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._~-]{0,30}",
        prop::collection::vec(any::<u8>(), 0..8).prop_map(|bytes| {
            bytes
                .iter()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        }),
        "\\PC{1,10}".prop_map(|s| { s.bytes().map(|b| format!("%{b:02X}")).collect::<String>() }),
    ]
}

fn operations() -> Vec<(Method, String)> {
    let mut ops = Vec::new();
    for name in ["zitadel-session-v2alpha", "oam-session-v1", "admin-v1"] {
        let path = format!("{}/openapi/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for (template, item) in spec["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                ops.push((
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    template.clone(),
                ));
            }
        }
    }
    ops
}

#[test]
fn arbitrary_input_never_panics_nor_gets_a_5xx() {
    // A 5xx then shows the server's logged cause beside the failing input.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("error")
        .with_test_writer()
        .try_init();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(TestApp::spawn());
    runtime.block_on(app.create_user("alice@example.com", "correct horse battery staple"));
    let ops = operations();
    assert!(ops.len() >= 19);
    let sent = std::cell::Cell::new(0usize);
    for (method, template) in ops {
        let mut runner = TestRunner::new(Config {
            cases: 48,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (json_value(), segment(), "[a-zA-Z0-9=&%._-]{0,40}");
        runner
            .run(&strategy, |(body, id, query)| {
                let mut path = template.clone();
                for param in ["{sessionId}", "{userId}", "{keyId}"] {
                    path = path.replace(param, &id);
                }
                if !query.is_empty() {
                    path = format!("{path}?{query}");
                }
                let reply = runtime.block_on(app.admin(method.clone(), &path, Some(body.clone())));
                sent.set(sent.get() + 1);
                prop_assert!(
                    !reply.status.is_server_error(),
                    "{method} {path} with {body} → {} {}",
                    reply.status,
                    reply.body
                );
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{method} {template}: {e}"));
    }
    assert!(sent.get() >= 19 * 48, "only {} requests sent", sent.get());
}

/// Inputs that once got a 5xx, replayed against every operation.
#[tokio::test]
async fn known_hostile_inputs_never_get_a_5xx() {
    let app = TestApp::spawn().await;
    app.create_user("alice@example.com", "correct horse battery staple")
        .await;
    let cases = [
        ("%00", "&L-%yo_._.C%_E%e99A-6=_Zl&="),
        ("%00", ""),
        ("a", "&L-%yo_._.C%_E%e99A-6=_Zl&="),
        ("%FF%FE", "%00=%00"),
    ];
    for (method, template) in operations() {
        for (id, query) in cases {
            let mut path = template.clone();
            for param in ["{sessionId}", "{userId}", "{keyId}"] {
                path = path.replace(param, id);
            }
            if !query.is_empty() {
                path = format!("{path}?{query}");
            }
            let reply = app.admin(method.clone(), &path, Some(Value::Null)).await;
            assert!(
                !reply.status.is_server_error(),
                "{method} {path} → {} {}",
                reply.status,
                reply.body
            );
        }
    }
}
