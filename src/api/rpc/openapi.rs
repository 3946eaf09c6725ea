//! The OpenAPI documents of ZITADEL's v2 and v2beta session services,
//! derived from the protos (the binary transports' contract), so the JSON
//! forms of both contracts are one. Each document describes the REST
//! gateway routes and the Connect JSON routes of its version.

use std::collections::BTreeSet;

use buffa_descriptor::{
    DescriptorPool, FieldDescriptor, FieldKind, MessageDescriptor, ScalarType, SingularKind,
};
use serde_json::{Map, Value, json};

use super::proto::DESCRIPTOR_SET;

/// One version's document inputs.
pub struct Version {
    /// `v2` or `v2beta`: the REST prefix and the document's name.
    pub name: &'static str,
    /// The proto package, e.g. `zitadel.session.v2`.
    pub package: &'static str,
    pub info_version: &'static str,
    pub description: &'static str,
    /// The Bearer scheme's name. Swagger UI keeps authorizations by scheme
    /// name, so each document names its own, as the other documents do.
    pub scheme: &'static str,
}

pub const V2: Version = Version {
    name: "v2",
    package: "zitadel.session.v2",
    info_version: "2.0",
    description: include_str!("../../../docs/zitadel-session-v2.md"),
    scheme: "zitadelV2Bearer",
};

pub const V2BETA: Version = Version {
    name: "v2beta",
    package: "zitadel.session.v2beta",
    info_version: "2.0-beta",
    description: include_str!("../../../docs/zitadel-session-v2beta.md"),
    scheme: "zitadelV2betaBearer",
};

/// Proto fields the documents leave out, as (message, JSON name): the
/// checks and challenges sessiond does not run, refused with code 3 when a
/// request sets them, and the factors and challenges it therefore never
/// returns. The proto files keep them, so binary clients decode exactly.
pub const UNSUPPORTED_FIELDS: [(&str, &str); 16] = [
    ("Checks", "webAuthN"),
    ("Checks", "idpIntent"),
    ("Checks", "totp"),
    ("Checks", "otpSms"),
    ("Checks", "otpEmail"),
    ("Checks", "recoveryCode"),
    ("CreateSessionRequest", "challenges"),
    ("SetSessionRequest", "challenges"),
    ("CreateSessionResponse", "challenges"),
    ("SetSessionResponse", "challenges"),
    ("Factors", "webAuthN"),
    ("Factors", "intent"),
    ("Factors", "totp"),
    ("Factors", "otpSms"),
    ("Factors", "otpEmail"),
    ("Factors", "recoveryCode"),
];

/// An RPC with its REST gateway route, as ZITADEL maps them.
struct Rpc {
    method: &'static str,
    summary: &'static str,
    description: &'static str,
    http_method: &'static str,
    /// The REST path below the version prefix.
    path: &'static str,
    /// Request fields taken from the path or the query rather than the
    /// body.
    path_field: Option<&'static str>,
    query_fields: &'static [&'static str],
    body: bool,
    created: bool,
}

const RPCS: [Rpc; 5] = [
    Rpc {
        method: "CreateSession",
        summary: "Create a new session",
        description: "Creates a session, running the given user and password checks \
            first. A failing check creates nothing. Returns the session id and a token. \
            `lifetime` sets the expiration. Needs `session.write`.",
        http_method: "post",
        path: "/sessions",
        path_field: None,
        query_fields: &[],
        body: true,
        created: true,
    },
    Rpc {
        method: "GetSession",
        summary: "Get a session",
        description: "Returns the session with its factors, metadata, user agent and \
            expiration date; expired sessions can still be read. Allowed with the \
            session's token, to the key that created the session, or with `session.read`.",
        http_method: "get",
        path: "/sessions/{sessionId}",
        path_field: Some("sessionId"),
        query_fields: &["sessionToken"],
        body: false,
        created: false,
    },
    Rpc {
        method: "SetSession",
        summary: "Update a session",
        description: "Runs new checks, changes metadata and resets the lifetime. Every \
            update issues a new session token; the old one stops working. The request's \
            `sessionToken` is ignored. Needs `session.write`. An expired session cannot be \
            updated.",
        http_method: "patch",
        path: "/sessions/{sessionId}",
        path_field: Some("sessionId"),
        query_fields: &[],
        body: true,
        created: false,
    },
    Rpc {
        method: "DeleteSession",
        summary: "Terminate a session",
        description: "Terminates the session. Allowed with the session's token, to the key \
            that created it, or with `session.delete`. Terminating a session again succeeds.",
        http_method: "delete",
        path: "/sessions/{sessionId}",
        path_field: Some("sessionId"),
        query_fields: &[],
        body: true,
        created: false,
    },
    Rpc {
        method: "ListSessions",
        summary: "Search sessions",
        description: "Lists the sessions the caller may see (all with `session.read`, \
            otherwise those its key created) that match every query, oldest first with \
            `query.asc`, newest first otherwise. `details.totalResult` counts all matches.",
        http_method: "post",
        path: "/sessions/search",
        path_field: None,
        query_fields: &[],
        body: true,
        created: false,
    },
];

/// Renders one version's document; `errors` holds the REST error schemas
/// (`rpcStatus` and its detail) shared with the v2alpha document.
pub fn document(version: &Version, errors: &Map<String, Value>) -> Value {
    let pool =
        DescriptorPool::decode(DESCRIPTOR_SET).expect("the generated descriptor set decodes");
    let service = format!("{}.SessionService", version.package);
    let mut schemas = Schemas {
        pool: &pool,
        out: Map::new(),
        done: BTreeSet::new(),
    };
    let mut paths = Map::new();
    for rpc in &RPCS {
        let input = format!("{}.{}Request", version.package, rpc.method);
        let output = format!("{}.{}Response", version.package, rpc.method);
        let input_ref = schemas.message_ref(&input);
        let output_ref = schemas.message_ref(&output);

        // The REST gateway route.
        let mut parameters = Vec::new();
        if let Some(field) = rpc.path_field {
            parameters.push(json!({
                "name": field, "in": "path", "required": true,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                "example": crate::api::wire::example_session_id(),
            }));
        }
        for field in rpc.query_fields {
            parameters.push(json!({
                "name": field, "in": "query", "required": false,
                "schema": {"type": "string", "maxLength": 200},
                "example": crate::api::wire::example_session_token(),
            }));
        }
        let mut operation = json!({
            "tags": ["SessionService"],
            "summary": rpc.summary,
            "description": rpc.description,
            "operationId": format!("SessionService_{}", rpc.method),
            "security": [{version.scheme: []}],
            "responses": rest_responses(&output_ref, rpc.created),
        });
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if rpc.body {
            let body_ref = match rpc.path_field {
                // The body is the request less its path field, as
                // ZITADEL's gateway names it.
                Some(field) => schemas.body_without(&input, field, rpc.method),
                None => input_ref.clone(),
            };
            // An absent body is the empty message, as in ZITADEL's gateway.
            operation["requestBody"] = json!({
                "required": false,
                "content": {"application/json": {"schema": body_ref}},
            });
        }
        let path = format!("/{}{}", version.name, rpc.path);
        paths
            .entry(path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path item")
            .insert(rpc.http_method.into(), operation);

        // The Connect route: the request message in, the response out.
        let connect = json!({
            "post": {
                "tags": ["SessionService (Connect)"],
                "summary": format!("{} (Connect)", rpc.summary),
                "description": format!(
                    "{} Connect protocol: the request message as JSON (or binary with \
                    `application/proto`), HTTP 200 with the response message, errors as \
                    Connect error bodies with a string `code`. gRPC and gRPC-Web use the \
                    same path.",
                    rpc.description
                ),
                "operationId": format!("{service}.{}", rpc.method),
                "security": [{version.scheme: []}],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": input_ref}},
                },
                "responses": connect_responses(&output_ref),
            }
        });
        paths.insert(format!("/{service}/{}", rpc.method), connect);
    }
    let mut components = schemas.out;
    for (name, example) in examples(version) {
        if let Some(schema) = components.get_mut(name) {
            schema["example"] = example;
        }
    }
    for (name, schema) in errors {
        components.insert(name.clone(), schema.clone());
    }
    components.insert("connectError".into(), connect_error());
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Session Service",
            "description": version.description,
            "version": version.info_version,
        },
        "tags": [
            {"name": "SessionService", "description": "The REST gateway routes."},
            {"name": "SessionService (Connect)", "description": "The Connect routes; gRPC and gRPC-Web share them."},
        ],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                version.scheme: {
                    "type": "http", "scheme": "bearer", "bearerFormat": "sessiond API key",
                    "description": "An API key sent as `Authorization: Bearer <secret>`.",
                },
            },
        },
    })
}

fn error_ref() -> Value {
    json!({"$ref": "#/components/schemas/rpcStatus"})
}

fn rest_responses(output_ref: &Value, created: bool) -> Value {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": error_ref()}}});
    let mut unauthenticated = error("Missing or invalid API key (code 16).");
    unauthenticated["headers"] = json!({"WWW-Authenticate": {
        "description": "Always `Bearer realm=\"sessiond\"`.",
        "required": true, "schema": {"type": "string"},
    }});
    let success = if created { "201" } else { "200" };
    json!({
        success: {"description": "The response message.", "content": {"application/json": {"schema": output_ref}}},
        "400": error("Invalid argument (code 3) or failed precondition (code 9)."),
        "401": unauthenticated,
        "403": error("Missing permission or invalid session token (code 7)."),
        "404": error("Unknown session or user (code 5)."),
        "405": error("Method not allowed for this path (code 12)."),
        "413": error("Request body larger than 1 MiB (code 8)."),
        "429": error("Too many password checks in progress (code 8)."),
        "500": error("Unexpected error (code 13)."),
        "503": error("The database cannot be reached; retry later (code 14)."),
    })
}

/// Connect's HTTP mapping of the codes this service answers with.
fn connect_responses(output_ref: &Value) -> Value {
    let error = |description: &str| {
        json!({"description": description, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/connectError"}}}})
    };
    json!({
        "200": {"description": "The response message.", "content": {"application/json": {"schema": output_ref}}},
        "400": error("`invalid_argument` or `failed_precondition`."),
        "401": error("`unauthenticated`: a missing or invalid API key."),
        "403": error("`permission_denied`."),
        "404": error("`not_found`, or `unimplemented` for an unknown method."),
        "413": error("`resource_exhausted`: a request body larger than 1 MiB."),
        "415": error("An unsupported content type."),
        "429": error("`resource_exhausted`: too many password checks in progress."),
        "500": error("`internal`."),
        "503": error("`unavailable`: the database cannot be reached."),
        "default": error("Any other Connect error."),
    })
}

fn connect_error() -> Value {
    json!({
        "type": "object",
        "description": "A Connect error body.",
        "required": ["code"],
        "properties": {
            "code": {"type": "string", "enum": [
                "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found",
                "already_exists", "permission_denied", "resource_exhausted",
                "failed_precondition", "aborted", "out_of_range", "unimplemented", "internal",
                "unavailable", "data_loss", "unauthenticated"]},
            "message": {"type": "string"},
            "details": {"type": "array", "items": {"type": "object", "properties": {
                "type": {"type": "string"},
                "value": {"type": "string", "format": "byte"},
            }}},
        },
        "example": {"code": "not_found", "message": "Session does not exist (QUERY-SFeaa)"},
    })
}

struct Schemas<'a> {
    pool: &'a DescriptorPool,
    out: Map<String, Value>,
    done: BTreeSet<String>,
}

/// A schema name for a proto message or enum: its name within its package,
/// nested names joined (`UserAgent.HeaderValues` → `UserAgentHeaderValues`).
/// The documents hold one session package with its object package, whose
/// names do not collide.
fn schema_name(full_name: &str) -> String {
    let mut parts: Vec<&str> = full_name.split('.').collect();
    // Package parts are lower case; type names start upper case.
    parts.retain(|p| p.starts_with(|c: char| c.is_ascii_uppercase()));
    parts.concat()
}

impl Schemas<'_> {
    fn message_ref(&mut self, full_name: &str) -> Value {
        if let Some(wkt) = well_known(full_name) {
            return wkt;
        }
        let name = schema_name(full_name);
        if self.done.insert(full_name.to_owned()) {
            let message = self
                .pool
                .message_by_name(full_name)
                .unwrap_or_else(|| panic!("message {full_name} is in the descriptor set"))
                .clone();
            let schema = self.message_schema(&message);
            assert!(
                self.out.insert(name.clone(), schema).is_none(),
                "schema name {name} is taken twice"
            );
        }
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    fn body_without(&mut self, full_name: &str, field: &str, method: &str) -> Value {
        let message = self
            .pool
            .message_by_name(full_name)
            .expect("request message")
            .clone();
        let mut schema = self.message_schema(&message);
        schema["properties"]
            .as_object_mut()
            .expect("properties")
            .remove(field);
        let name = format!("SessionService{method}Body");
        self.out.insert(name.clone(), schema);
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    fn message_schema(&mut self, message: &MessageDescriptor) -> Value {
        let name = schema_name(message.full_name());
        let mut properties = Map::new();
        for field in message.fields() {
            if UNSUPPORTED_FIELDS.contains(&(name.as_str(), field.json_name())) {
                continue;
            }
            properties.insert(field.json_name().to_owned(), self.field_schema(field));
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if !message.oneofs().iter().all(|o| o.is_synthetic()) {
            let groups: Vec<String> = message
                .oneofs()
                .iter()
                .filter(|o| !o.is_synthetic())
                .map(|o| {
                    let names: Vec<&str> = o
                        .field_indices()
                        .iter()
                        .map(|i| message.fields()[usize::from(*i)].json_name())
                        .filter(|field| !UNSUPPORTED_FIELDS.contains(&(name.as_str(), *field)))
                        .collect();
                    format!("`{}`", names.join("`, `"))
                })
                .collect();
            schema["description"] = json!(format!("At most one of {}.", groups.join("; of ")));
        }
        schema
    }

    fn field_schema(&mut self, field: &FieldDescriptor) -> Value {
        match field.kind() {
            FieldKind::Singular(kind) => self.singular(kind),
            FieldKind::List(kind) => json!({"type": "array", "items": self.singular(kind)}),
            FieldKind::Map { value, .. } => {
                json!({"type": "object", "additionalProperties": self.singular(value)})
            }
        }
    }

    fn singular(&mut self, kind: SingularKind) -> Value {
        match kind {
            SingularKind::Scalar(scalar) => scalar_schema(scalar),
            SingularKind::Enum(index) => {
                let enumeration = self.pool.enumeration(index);
                let name = schema_name(enumeration.full_name());
                if self.done.insert(enumeration.full_name().to_owned()) {
                    let values: Vec<&str> = enumeration.values().iter().map(|v| v.name()).collect();
                    self.out.insert(
                        name.clone(),
                        json!({"type": "string", "enum": values, "default": values[0]}),
                    );
                }
                json!({"$ref": format!("#/components/schemas/{name}")})
            }
            SingularKind::Message(index) => {
                let full_name = self.pool.message(index).full_name().to_owned();
                self.message_ref(&full_name)
            }
        }
    }
}

/// protojson's forms of the well-known types.
fn well_known(full_name: &str) -> Option<Value> {
    Some(match full_name {
        "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
        "google.protobuf.Duration" => json!({
            "type": "string",
            "pattern": "^-?[0-9]{1,12}(\\.[0-9]{1,9})?s$",
            "example": "300s",
        }),
        "google.protobuf.Struct" => json!({"type": "object", "additionalProperties": true}),
        "google.protobuf.Value" => json!({}),
        _ => return None,
    })
}

/// protojson's forms of the scalars: 64-bit integers are strings on output
/// and strings or numbers on input.
fn scalar_schema(scalar: ScalarType) -> Value {
    use ScalarType as S;
    match scalar {
        S::Int32 | S::Sint32 | S::Sfixed32 => json!({"type": "integer", "format": "int32"}),
        S::Uint32 | S::Fixed32 => {
            json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": 4_294_967_295u64})
        }
        S::Int64 | S::Sint64 | S::Sfixed64 => json!({"anyOf": [
            {"type": "string", "format": "int64", "pattern": "^-?[0-9]{1,19}$"},
            {"type": "integer", "format": "int64"},
        ]}),
        S::Uint64 | S::Fixed64 => json!({"anyOf": [
            {"type": "string", "format": "uint64", "pattern": "^[0-9]{1,19}$"},
            {"type": "integer", "format": "int64", "minimum": 0},
        ]}),
        S::Bool => json!({"type": "boolean"}),
        S::String => json!({"type": "string"}),
        S::Bytes => json!({"type": "string", "format": "byte"}),
        S::Double | S::Float => json!({"type": "number"}),
    }
}

/// The examples of the request and response messages; they name the
/// user the walkthroughs create (`alice@example.com`).
fn examples(version: &Version) -> Vec<(&'static str, Value)> {
    let session_id = crate::api::wire::example_session_id();
    let token = crate::api::wire::example_session_token();
    let at = "2026-12-03T10:15:30.123456Z";
    let mut details = json!({
        "sequence": "2",
        "changeDate": at,
        "resourceOwner": "01kbq3x7m2d8e9f0g1h2j3k4m0",
    });
    if version.name == "v2" {
        details["creationDate"] = json!("2026-12-03T10:10:30.123456Z");
    }
    let user_agent = json!({
        "fingerprintId": "fp-4f8a2c",
        "ip": "192.0.2.10",
        "description": "Firefox on Linux",
        "header": {"accept-language": {"values": ["en-GB", "en"]}},
    });
    let session = json!({
        "id": session_id,
        "creationDate": "2026-12-03T10:10:30.123456Z",
        "changeDate": at,
        "sequence": "2",
        "factors": {
            "user": {
                "verifiedAt": "2026-12-03T10:10:30.123456Z",
                "id": crate::api::wire::example_user_id(),
                "loginName": "alice@example.com",
                "displayName": "Alice",
                "organizationId": "01kbq3x7m2d8e9f0g1h2j3k4m0",
            },
            "password": {"verifiedAt": "2026-12-03T10:10:30.123456Z"},
        },
        "metadata": {"department": "c2FsZXM="},
        "userAgent": user_agent,
        "expirationDate": "2026-12-03T15:10:30.123456Z",
    });
    let metadata = json!({"department": "c2FsZXM="});
    let set_body = json!({"metadata": {"theme": "ZGFyaw=="}, "lifetime": "3600s"});
    let mut set_request = set_body.clone();
    set_request["sessionId"] = json!(session_id);
    vec![
        (
            "CreateSessionRequest",
            json!({
                "checks": {
                    "user": {"loginName": "alice@example.com"},
                    "password": {"password": "correct horse battery staple"},
                },
                "metadata": metadata,
                "lifetime": "18000s",
                "userAgent": user_agent,
            }),
        ),
        (
            "CreateSessionResponse",
            json!({"details": details, "sessionId": session_id, "sessionToken": token}),
        ),
        (
            "GetSessionRequest",
            json!({"sessionId": session_id, "sessionToken": token}),
        ),
        ("GetSessionResponse", json!({"session": session})),
        ("SetSessionRequest", set_request),
        ("SessionServiceSetSessionBody", set_body),
        (
            "SetSessionResponse",
            json!({"details": details, "sessionToken": token}),
        ),
        (
            "DeleteSessionRequest",
            json!({"sessionId": session_id, "sessionToken": token}),
        ),
        (
            "SessionServiceDeleteSessionBody",
            json!({"sessionToken": token}),
        ),
        ("DeleteSessionResponse", json!({"details": details})),
        (
            "ListSessionsRequest",
            json!({
                "query": {"offset": "0", "limit": 100, "asc": true},
                "queries": [
                    {"userIdQuery": {"id": crate::api::wire::example_user_id()}},
                    {"creationDateQuery": {
                        "creationDate": "2026-12-01T00:00:00Z",
                        "method": "TIMESTAMP_QUERY_METHOD_GREATER_OR_EQUALS",
                    }},
                ],
                "sortingColumn": "SESSION_FIELD_NAME_CREATION_DATE",
            }),
        ),
        (
            "ListSessionsResponse",
            json!({
                "details": {"totalResult": "1", "processedSequence": "2", "timestamp": at},
                "sessions": [session],
            }),
        ),
    ]
}
