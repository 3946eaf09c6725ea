//! Seeding through the public API: users, an API key, and sessions whose
//! tokens the scenarios then use.

use std::sync::Arc;

use anyhow::Context;
use serde_json::{Value, json};

use crate::http::{Client, Target};

pub const PASSWORD: &str = "correct horse battery staple";
pub const ZITADEL_SESSIONS: &str = "/v2alpha/sessions";

#[derive(Clone, Debug)]
pub struct SeedUser {
    pub id: String,
    pub login_name: String,
}

#[derive(Clone, Debug)]
pub struct SeedSession {
    pub id: String,
    pub token: String,
}

/// Login name of the n-th seeded user.
pub fn login_name(n: usize) -> String {
    format!("user{n}")
}

/// POSTs every body to `path` with `concurrency` connections and returns the
/// JSON answers in the order of `bodies`. Any other status than `expected`
/// fails the whole call.
pub async fn post_all(
    target: &Target,
    path: &'static str,
    bodies: Vec<Value>,
    expected: u16,
    concurrency: usize,
) -> anyhow::Result<Vec<Value>> {
    let bodies = Arc::new(bodies);
    let concurrency = concurrency.clamp(1, bodies.len().max(1));
    let mut handles = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let bodies = bodies.clone();
        let mut client = Client::new(target.clone());
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in (w..bodies.len()).step_by(concurrency) {
                let answer = client
                    .post(path, &bodies[i])
                    .await?
                    .expect(expected)
                    .with_context(|| format!("seeding POST {path}"))?;
                out.push((i, answer));
            }
            anyhow::Ok(out)
        }));
    }
    let mut all = Vec::with_capacity(bodies.len());
    for handle in handles {
        all.extend(handle.await.context("seeding task panicked")??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, v)| v).collect())
}

fn string_field(value: &Value, field: &str) -> anyhow::Result<String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("answer has no string field {field:?}: {value}"))
}

/// Creates `n` users, `user0` … `user{n-1}`, all with [`PASSWORD`].
pub async fn users(target: &Target, n: usize, concurrency: usize) -> anyhow::Result<Vec<SeedUser>> {
    let bodies = (0..n)
        .map(|i| json!({"loginName": login_name(i), "password": PASSWORD}))
        .collect();
    let answers = post_all(target, "/admin/v1/users", bodies, 201, concurrency).await?;
    answers
        .iter()
        .enumerate()
        .map(|(i, a)| {
            Ok(SeedUser {
                id: string_field(a, "userId")?,
                login_name: login_name(i),
            })
        })
        .collect()
}

/// Creates an API key and returns its secret.
pub async fn api_key(target: &Target, name: &str, permissions: &[&str]) -> anyhow::Result<String> {
    let body = json!({"name": name, "permissions": permissions});
    let answers = post_all(target, "/admin/v1/keys", vec![body], 201, 1).await?;
    string_field(&answers[0], "secret")
}

/// Creates one ZITADEL session per body and returns ids and tokens.
pub async fn zitadel_sessions(
    target: &Target,
    bodies: Vec<Value>,
    concurrency: usize,
) -> anyhow::Result<Vec<SeedSession>> {
    let answers = post_all(target, ZITADEL_SESSIONS, bodies, 201, concurrency).await?;
    answers
        .iter()
        .map(|a| {
            Ok(SeedSession {
                id: string_field(a, "sessionId")?,
                token: string_field(a, "sessionToken")?,
            })
        })
        .collect()
}

/// The body of a ZITADEL create with a user check on the n-th user.
pub fn create_with_user(n: usize) -> Value {
    json!({"checks": {"user": {"loginName": login_name(n)}}})
}

/// The pre-seeded sessions of the base phase: user-checked, one metadata
/// entry each, spread over the users.
pub async fn base_sessions(
    target: &Target,
    users: usize,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<SeedSession>> {
    let bodies = (0..n)
        .map(|i| {
            let mut body = create_with_user(i % users);
            body["metadata"] = json!({"device": "bGFwdG9w"});
            body
        })
        .collect();
    zitadel_sessions(target, bodies, concurrency).await
}

/// Extracts a session id from an OAM SessionData answer.
pub fn oam_session_id(answer: &Value) -> anyhow::Result<String> {
    string_field(answer, "sessionId")
}
