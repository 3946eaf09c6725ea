//! Holds every request to its contract document: a JSON body must match the
//! operation's request schema exactly as `openapi/` states it (no numbers
//! where strings are declared, no `null` for absent fields), and a 405 names
//! the allowed methods in `Allow`. poem-openapi's own parsing is more lenient
//! than the schemas it renders, so this check runs first.

use std::collections::HashMap;
use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use serde_json::Value;

use super::auth;
use super::schema::{CompiledSchema, DocumentSchemas};

enum Segment {
    Literal(String),
    Param,
}

struct PathOperations {
    segments: Vec<Segment>,
    /// Method → request body schema, if the operation takes a body.
    operations: HashMap<Method, Option<Arc<CompiledSchema>>>,
    allow: String,
}

#[derive(Clone)]
pub struct ContractGuard {
    paths: Arc<Vec<PathOperations>>,
    accepted: auth::Accepted,
}

impl ContractGuard {
    /// Builds the guard from a rendered OpenAPI document (JSON).
    pub fn from_spec(spec_json: &str) -> ContractGuard {
        let spec: Value = serde_json::from_str(spec_json).expect("a rendered document is JSON");
        let schemas = DocumentSchemas::new(&spec);
        let mut paths = Vec::new();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            let segments = path
                .trim_matches('/')
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        Segment::Param
                    } else {
                        Segment::Literal(s.to_owned())
                    }
                })
                .collect();
            let mut operations = HashMap::new();
            let mut methods = Vec::new();
            for (method, op) in item.as_object().into_iter().flatten() {
                let Ok(parsed) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                    continue;
                };
                methods.push(parsed.as_str().to_owned());
                let schema = op["requestBody"]["content"]
                    .as_object()
                    .and_then(|c| c.values().next())
                    .map(|media| {
                        let compiled = schemas
                            .compile(&media["schema"])
                            .expect("every rendered request schema compiles");
                        Arc::new(compiled)
                    });
                operations.insert(parsed, schema);
            }
            paths.push(PathOperations {
                segments,
                operations,
                allow: methods.join(", "),
            });
        }
        let basic = spec["components"]["securitySchemes"]
            .as_object()
            .into_iter()
            .flatten()
            .any(|(_, scheme)| scheme["scheme"] == "basic");
        ContractGuard {
            paths: Arc::new(paths),
            accepted: if basic {
                auth::Accepted::BearerOrBasic
            } else {
                auth::Accepted::BearerOnly
            },
        }
    }

    fn find(&self, path: &str) -> Option<&PathOperations> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        // Literal segments win over parameters (`/sessions/search` is not a
        // session id).
        let mut best: Option<(usize, &PathOperations)> = None;
        for candidate in self.paths.iter() {
            if candidate.segments.len() != parts.len() {
                continue;
            }
            let mut literals = 0;
            let matches = candidate
                .segments
                .iter()
                .zip(&parts)
                .all(|(seg, part)| match seg {
                    Segment::Literal(l) => {
                        literals += 1;
                        l == part
                    }
                    Segment::Param => !part.is_empty(),
                });
            if matches && best.is_none_or(|(n, _)| literals > n) {
                best = Some((literals, candidate));
            }
        }
        best.map(|(_, p)| p)
    }
}

impl<E: Endpoint> Middleware<E> for ContractGuard {
    type Output = ContractGuardEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        ContractGuardEndpoint {
            inner: ep,
            guard: self.clone(),
        }
    }
}

pub struct ContractGuardEndpoint<E> {
    inner: E,
    guard: ContractGuard,
}

impl<E: Endpoint> Endpoint for ContractGuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let path = req.uri().path().to_owned();
        let Some(schema) = self
            .guard
            .find(&path)
            .and_then(|p| p.operations.get(req.method()))
        else {
            // No operation here: routing answers 404 or 405.
            return Ok(self.inner.call(req).await?.into_response());
        };
        // Credentials come first, before parameters and body are parsed.
        let principal = auth::authenticate_request(&req, self.guard.accepted).await?;
        req.extensions_mut().insert(auth::Authenticated(principal));
        if let Some(schema) = schema {
            // The body limit middleware has already buffered the body.
            let bytes = req.take_body().into_bytes().await?;
            let problem = if bytes.is_empty() {
                None
            } else {
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(value) => schema.check(&value).err(),
                    Err(_) => None, // left to the payload parser's message
                }
            };
            req.set_body(bytes);
            if let Some(problem) = problem {
                return Err(poem::Error::from_string(
                    format!("invalid request body: {problem}"),
                    StatusCode::BAD_REQUEST,
                ));
            }
        }
        Ok(self.inner.call(req).await?.into_response())
    }
}

/// Adds `Allow` to 405 responses. It wraps the dialect's error rendering,
/// so the 405 body is already in the dialect's shape.
pub struct AllowHeader(pub ContractGuard);

impl<E: Endpoint> Middleware<E> for AllowHeader {
    type Output = AllowHeaderEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AllowHeaderEndpoint {
            inner: ep,
            guard: self.0.clone(),
        }
    }
}

pub struct AllowHeaderEndpoint<E> {
    inner: E,
    guard: ContractGuard,
}

impl<E: Endpoint> Endpoint for AllowHeaderEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let path = req.uri().path().to_owned();
        let mut response = self.inner.call(req).await?.into_response();
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(found) = self.guard.find(&path)
            && let Ok(value) = poem::http::HeaderValue::from_str(&found.allow)
        {
            response
                .headers_mut()
                .insert(poem::http::header::ALLOW, value);
        }
        Ok(response)
    }
}
