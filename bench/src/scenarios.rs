//! The HTTP operations the scenarios repeat. Each worker owns one connection
//! and one operation; the mixed profile owns three and picks one per step.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hyper::Method;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::bulk::BulkPool;
use crate::http::{Client, Target};
use crate::load::{Outcome, Step, Worker};
use crate::seed::{self, SeedSession};

pub const OAM: &str = "/oam/services/rest/access/api/v1";

/// Sessions whose ids and tokens are known: the API-seeded ones, then
/// (optionally) every bulk-seeded one.
pub struct SessionPool {
    pub seeded: Vec<SeedSession>,
    pub bulk: Option<BulkPool>,
}

impl SessionPool {
    pub fn len(&self) -> u64 {
        self.seeded.len() as u64 + self.bulk.as_ref().map_or(0, |b| b.count)
    }

    /// A uniformly random session of the pool, as (id, token).
    pub fn pick(&self, rng: &mut SmallRng) -> (String, String) {
        let i = rng.random_range(0..self.len().max(1));
        match (&self.bulk, i.checked_sub(self.seeded.len() as u64)) {
            (Some(bulk), Some(j)) => (bulk.id(j), bulk.token(j)),
            _ => {
                let s = &self.seeded[i as usize % self.seeded.len().max(1)];
                (s.id.clone(), s.token.clone())
            }
        }
    }
}

/// A range of bulk rows handed out one at a time, so concurrent deleters
/// never delete the same session twice.
pub struct Cursor {
    pub pool: BulkPool,
    next: AtomicU64,
    end: u64,
}

impl Cursor {
    pub fn new(pool: BulkPool, start: u64, end: u64) -> Cursor {
        Cursor {
            pool,
            next: AtomicU64::new(start),
            end,
        }
    }

    fn take(&self) -> Option<String> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        (i < self.end).then(|| self.pool.id(i))
    }
}

/// One operation and its state.
pub enum Op {
    Get {
        path: &'static str,
        expect: u16,
    },
    /// POSTs one of the bodies, in turn.
    Post {
        path: &'static str,
        bodies: Arc<Vec<Bytes>>,
        next: usize,
        expect: u16,
    },
    /// ZITADEL get of a random pooled session: with its token (which
    /// records the access), or without (the admin key's `session.read`).
    GetSession {
        pool: Arc<SessionPool>,
        with_token: bool,
    },
    /// Rotates through the worker's own sessions, keeping each new token.
    SetMetadata {
        sessions: Vec<SeedSession>,
        next: usize,
        counter: u64,
    },
    SearchIds {
        pool: Arc<SessionPool>,
        ids_per_query: usize,
    },
    Delete {
        cursor: Arc<Cursor>,
        oam: bool,
    },
    OamGet {
        ids: Arc<Vec<String>>,
    },
}

pub struct HttpWorker {
    client: Client,
    rng: SmallRng,
    op: Op,
    /// For the mixed profile: the get, set-metadata and create operations,
    /// with the cumulative percentages that select them.
    mix: Option<Vec<(u32, Op)>>,
}

impl HttpWorker {
    pub fn new(target: &Target, seed: u64, op: Op) -> HttpWorker {
        HttpWorker {
            client: Client::new(target.clone()),
            rng: SmallRng::seed_from_u64(seed),
            op,
            mix: None,
        }
    }

    /// A worker that picks each step's operation by weight (percent).
    pub fn mixed(target: &Target, seed: u64, weighted: Vec<(u32, Op)>) -> HttpWorker {
        let mut cumulative = 0;
        let mix = weighted
            .into_iter()
            .map(|(w, op)| {
                cumulative += w;
                (cumulative, op)
            })
            .collect();
        HttpWorker {
            client: Client::new(target.clone()),
            rng: SmallRng::seed_from_u64(seed),
            op: Op::Get {
                path: "/healthz",
                expect: 200,
            },
            mix: Some(mix),
        }
    }
}

#[async_trait]
impl Worker for HttpWorker {
    async fn step(&mut self) -> Step {
        let HttpWorker {
            client,
            rng,
            op,
            mix,
        } = self;
        match mix {
            None => call(op, client, rng).await.into(),
            Some(mix) => {
                let roll = rng.random_range(0..100);
                let kind = mix.iter().position(|(c, _)| roll < *c).unwrap_or(0);
                let outcome = call(&mut mix[kind].1, client, rng).await;
                Step { kind, outcome }
            }
        }
    }
}

async fn call(op: &mut Op, client: &mut Client, rng: &mut SmallRng) -> Outcome {
    match op {
        Op::Get { path, expect } => match client.get(path).await {
            Ok(r) => Outcome::expect_status(&r, *expect),
            Err(e) => e.into(),
        },
        Op::Post {
            path,
            bodies,
            next,
            expect,
        } => {
            let body = bodies[*next % bodies.len()].clone();
            *next += 1;
            match client.send(Method::POST, path, Some(body)).await {
                Ok(r) => Outcome::expect_status(&r, *expect),
                Err(e) => e.into(),
            }
        }
        Op::GetSession { pool, with_token } => {
            let (id, token) = pool.pick(rng);
            let path = if *with_token {
                format!("{}/{id}?sessionToken={token}", seed::ZITADEL_SESSIONS)
            } else {
                format!("{}/{id}", seed::ZITADEL_SESSIONS)
            };
            match client.get(&path).await {
                Ok(r) => Outcome::expect_status(&r, 200),
                Err(e) => e.into(),
            }
        }
        Op::SetMetadata {
            sessions,
            next,
            counter,
        } => {
            let n = sessions.len();
            let session = &mut sessions[*next % n];
            *next += 1;
            *counter += 1;
            let value = STANDARD.encode(counter.to_be_bytes());
            let body = json!({"sessionToken": session.token, "metadata": {"k": value}});
            let path = format!("{}/{}", seed::ZITADEL_SESSIONS, session.id);
            match client.patch(&path, &body).await {
                Ok(r) if r.status.as_u16() == 200 => match new_token(&r.body) {
                    Some(token) => {
                        session.token = token;
                        Outcome::Ok
                    }
                    None => Outcome::Failed("set-metadata answer has no sessionToken".into()),
                },
                Ok(r) => Outcome::expect_status(&r, 200),
                Err(e) => e.into(),
            }
        }
        Op::SearchIds {
            pool,
            ids_per_query,
        } => {
            let ids: Vec<String> = (0..*ids_per_query).map(|_| pool.pick(rng).0).collect();
            let body = json!({"queries": [{"idsQuery": {"ids": ids}}]});
            let path = format!("{}/search", seed::ZITADEL_SESSIONS);
            match client.post(&path, &body).await {
                Ok(r) => Outcome::expect_status(&r, 200),
                Err(e) => e.into(),
            }
        }
        Op::Delete { cursor, oam } => {
            let Some(id) = cursor.take() else {
                return Outcome::Exhausted;
            };
            let path = if *oam {
                format!("{OAM}/session?sessionId={id}")
            } else {
                format!("{}/{id}", seed::ZITADEL_SESSIONS)
            };
            match client.delete(&path).await {
                Ok(r) => Outcome::expect_status(&r, 200),
                Err(e) => e.into(),
            }
        }
        Op::OamGet { ids } => {
            let id = &ids[rng.random_range(0..ids.len().max(1)) % ids.len().max(1)];
            match client.get(&format!("{OAM}/session/{id}")).await {
                Ok(r) => Outcome::expect_status(&r, 200),
                Err(e) => e.into(),
            }
        }
    }
}

fn new_token(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get("sessionToken")?.as_str().map(str::to_owned)
}

/// Pre-rendered request bodies, so workers do not serialize JSON per request.
pub fn bodies(values: impl IntoIterator<Item = Value>) -> Arc<Vec<Bytes>> {
    Arc::new(
        values
            .into_iter()
            .map(|v| Bytes::from(v.to_string()))
            .collect(),
    )
}

/// Bodies for a ZITADEL create, one per user, each worker starting at a
/// different user.
pub fn create_bodies(users: usize, with_user: bool, with_password: bool) -> Arc<Vec<Bytes>> {
    bodies((0..users.max(1)).map(|n| {
        if !with_user {
            return json!({});
        }
        let mut body = seed::create_with_user(n);
        if with_password {
            body["checks"]["password"] = json!({"password": seed::PASSWORD});
        }
        body
    }))
}

pub fn oam_create_bodies(users: usize) -> Arc<Vec<Bytes>> {
    bodies((0..users.max(1)).map(|n| {
        json!({
            "userId": seed::login_name(n),
            "userAttributes": {"a": {"attrName": "a", "attrValue": "v"}},
        })
    }))
}

pub fn oam_search_bodies(users: usize) -> Arc<Vec<Bytes>> {
    bodies((0..users.max(1)).map(|n| json!({"userId": seed::login_name(n)})))
}
