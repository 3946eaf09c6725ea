//! ZITADEL's Session Service over its RPC transports, table-driven: every
//! rule runs over Connect (JSON and binary, HTTP/1.1 and HTTP/2), gRPC
//! (h2c) and gRPC-Web (HTTP/1.1 and HTTP/2), against the real server loop
//! on a TCP port.

use std::time::Duration;

use buffa::MessageField;
use connectrpc::client::{ClientConfig, HttpClient};
use connectrpc::{ErrorCode, Protocol};
use serde_json::{Value, json};
use sessiond::api::rpc::proto::zitadel::object::v2 as object;
use sessiond::api::rpc::proto::zitadel::session::v2 as pb;
use sessiond::api::rpc::proto::zitadel::session::{v2alpha, v2beta};
use sessiond::api::rpc::proto::zitadel::v1::TimestampQueryMethod;

use crate::helpers::{ADMIN_KEY, TestApp};

const LOGIN: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    ConnectJson,
    ConnectProto,
    ConnectJsonHttp2,
    Grpc,
    GrpcWeb,
    GrpcWebHttp2,
}

const TRANSPORTS: [Transport; 6] = [
    Transport::ConnectJson,
    Transport::ConnectProto,
    Transport::ConnectJsonHttp2,
    Transport::Grpc,
    Transport::GrpcWeb,
    Transport::GrpcWebHttp2,
];

struct RpcServer {
    app: TestApp,
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RpcServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start() -> RpcServer {
    let app = TestApp::spawn().await;
    app.create_user(LOGIN, PASSWORD).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes = sessiond::api::routes(app.services.clone());
    let options = sessiond::server::ServerOptions {
        header_read_timeout: Duration::from_secs(10),
        drain: Duration::from_millis(10),
        grace: Duration::from_millis(10),
    };
    let task = tokio::spawn(async move {
        sessiond::server::run(listener, routes, std::future::pending(), options)
            .await
            .unwrap();
    });
    RpcServer { app, base, task }
}

fn client_config(transport: Transport, base: &str, key: &str) -> (HttpClient, ClientConfig) {
    use Transport as T;
    let http = match transport {
        T::ConnectJsonHttp2 | T::Grpc | T::GrpcWebHttp2 => HttpClient::plaintext_http2_only(),
        T::ConnectJson | T::ConnectProto | T::GrpcWeb => HttpClient::plaintext(),
    };
    let config = ClientConfig::new(base.parse().unwrap())
        .with_default_header("authorization", format!("Bearer {key}"))
        .with_default_timeout(Duration::from_secs(30));
    let config = match transport {
        T::ConnectJson | T::ConnectJsonHttp2 => config.json(),
        T::ConnectProto => config.proto(),
        T::Grpc => config.with_protocol(Protocol::Grpc).proto(),
        T::GrpcWeb | T::GrpcWebHttp2 => config.with_protocol(Protocol::GrpcWeb).proto(),
    };
    (http, config)
}

fn v2_client(transport: Transport, base: &str, key: &str) -> pb::SessionServiceClient<HttpClient> {
    let (http, config) = client_config(transport, base, key);
    pb::SessionServiceClient::new(http, config)
}

fn user_and_password(
    login: &str,
    password: &str,
) -> MessageField<pb::Checks, buffa::Inline<pb::Checks>> {
    MessageField::some(pb::Checks {
        user: MessageField::some(pb::CheckUser {
            search: Some(pb::__buffa::oneof::check_user::Search::LoginName(
                login.into(),
            )),
            ..Default::default()
        }),
        password: MessageField::some(pb::CheckPassword {
            password: password.into(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn seconds(n: i64) -> buffa_types::google::protobuf::Duration {
    buffa_types::google::protobuf::Duration::from(chrono::TimeDelta::seconds(n))
}

fn create_request(lifetime_seconds: i64) -> pb::CreateSessionRequest {
    pb::CreateSessionRequest {
        checks: user_and_password(LOGIN, PASSWORD),
        metadata: [("k".to_string(), b"v1".to_vec())].into_iter().collect(),
        lifetime: MessageField::some(seconds(lifetime_seconds)),
        user_agent: MessageField::some(pb::UserAgent {
            fingerprint_id: Some("fingerprint-1".into()),
            ip: Some("192.0.2.7".into()),
            description: Some("Firefox on Linux".into()),
            header: [(
                "accept-language".to_string(),
                pb::user_agent::HeaderValues {
                    values: vec!["en".into(), "de".into()],
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ids_query(ids: &[&str]) -> pb::SearchQuery {
    pb::SearchQuery {
        query: Some(
            pb::IDsQuery {
                ids: ids.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            }
            .into(),
        ),
        ..Default::default()
    }
}

fn user_query(user_id: &str) -> pb::SearchQuery {
    pb::SearchQuery {
        query: Some(
            pb::UserIDQuery {
                id: user_id.into(),
                ..Default::default()
            }
            .into(),
        ),
        ..Default::default()
    }
}

fn page(
    offset: u64,
    limit: u32,
) -> MessageField<object::ListQuery, buffa::Inline<object::ListQuery>> {
    MessageField::some(object::ListQuery {
        offset,
        limit,
        asc: true,
        ..Default::default()
    })
}

#[tokio::test]
async fn the_whole_flow_works_over_every_transport() {
    let server = start().await;
    for transport in TRANSPORTS {
        let client = v2_client(transport, &server.base, ADMIN_KEY);
        let created = client
            .create_session(create_request(300))
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: create: {e:?}"))
            .into_owned();
        assert!(!created.session_id.is_empty(), "{transport:?}");
        let details = created.details.as_option().unwrap();
        assert_eq!(details.sequence, 1, "{transport:?}");
        assert!(details.creation_date.is_set(), "{transport:?}");

        let got = client
            .get_session(pb::GetSessionRequest {
                session_id: created.session_id.clone(),
                session_token: Some(created.session_token.clone()),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: get: {e:?}"))
            .into_owned();
        let session = got.session.as_option().unwrap();
        let user = session
            .factors
            .as_option()
            .unwrap()
            .user
            .as_option()
            .unwrap();
        assert_eq!(user.login_name, LOGIN, "{transport:?}");
        assert!(!user.organization_id.is_empty(), "{transport:?}");
        assert!(session.factors.as_option().unwrap().password.is_set());
        assert_eq!(session.metadata.get("k"), Some(&b"v1".to_vec()));
        let created_at = session.creation_date.as_option().unwrap().seconds;
        let expires_at = session.expiration_date.as_option().unwrap().seconds;
        assert!(
            (299..=301).contains(&(expires_at - created_at)),
            "{transport:?}"
        );
        let agent = session.user_agent.as_option().unwrap();
        assert_eq!(agent.fingerprint_id.as_deref(), Some("fingerprint-1"));
        assert_eq!(agent.ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(agent.description.as_deref(), Some("Firefox on Linux"));
        assert_eq!(agent.header["accept-language"].values, vec!["en", "de"]);

        let set = client
            .set_session(pb::SetSessionRequest {
                session_id: created.session_id.clone(),
                metadata: [("k2".to_string(), b"v2".to_vec())].into_iter().collect(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: set: {e:?}"))
            .into_owned();
        assert_ne!(set.session_token, created.session_token, "{transport:?}");
        assert_eq!(set.details.as_option().unwrap().sequence, 2);
        // The old token no longer reads the session; the new one does.
        let stale = client
            .get_session(pb::GetSessionRequest {
                session_id: created.session_id.clone(),
                session_token: Some(created.session_token.clone()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(stale.code, ErrorCode::PermissionDenied, "{transport:?}");
        let merged = client
            .get_session(pb::GetSessionRequest {
                session_id: created.session_id.clone(),
                session_token: Some(set.session_token.clone()),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_owned();
        let metadata = &merged.session.as_option().unwrap().metadata;
        assert_eq!(metadata.len(), 2, "{transport:?}");
        assert_eq!(metadata["k2"], b"v2".to_vec());

        // A second session of the same user, then list by ids and by user.
        server.app.clock.advance(chrono::Duration::seconds(1));
        let second = client
            .create_session(create_request(300))
            .await
            .unwrap()
            .into_owned();
        let user_id = user.id.clone();
        for queries in [
            vec![ids_query(&[&created.session_id, &second.session_id])],
            vec![
                user_query(&user_id),
                ids_query(&[&created.session_id, &second.session_id]),
            ],
        ] {
            let mut seen = Vec::new();
            for offset in [0, 1] {
                let listed = client
                    .list_sessions(pb::ListSessionsRequest {
                        query: page(offset, 1),
                        queries: queries.clone(),
                        ..Default::default()
                    })
                    .await
                    .unwrap_or_else(|e| panic!("{transport:?}: list: {e:?}"))
                    .into_owned();
                assert_eq!(listed.details.as_option().unwrap().total_result, 2);
                assert_eq!(listed.sessions.len(), 1, "{transport:?}");
                seen.push(listed.sessions[0].id.clone());
            }
            assert_eq!(
                seen,
                vec![created.session_id.clone(), second.session_id.clone()]
            );
        }

        let deleted = client
            .delete_session(pb::DeleteSessionRequest {
                session_id: created.session_id.clone(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: delete: {e:?}"))
            .into_owned();
        assert!(deleted.details.is_set());
        let gone = client
            .get_session(pb::GetSessionRequest {
                session_id: created.session_id.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(gone.code, ErrorCode::NotFound, "{transport:?}");
        assert_eq!(
            gone.message.as_deref(),
            Some("Session does not exist (QUERY-SFeaa)")
        );
    }
}

#[tokio::test]
async fn failures_carry_zitadel_codes_and_write_nothing_over_every_transport() {
    let server = start().await;
    for transport in TRANSPORTS {
        let client = v2_client(transport, &server.base, ADMIN_KEY);
        let before = stored_sessions(&server).await;

        let mut wrong = create_request(300);
        wrong.checks = user_and_password(LOGIN, "wrong password");
        let err = client.create_session(wrong).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{transport:?}");
        assert_eq!(
            err.message.as_deref(),
            Some("Password is invalid (COMMAND-SAF3g)")
        );

        let mut unknown = create_request(300);
        unknown.checks = user_and_password("nobody@example.com", PASSWORD);
        let err = client.create_session(unknown).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound, "{transport:?}");
        assert_eq!(
            err.message.as_deref(),
            Some("User could not be found (QUERY-Dfbg2)")
        );

        for bad in [0, -5] {
            let err = client
                .create_session(create_request(bad))
                .await
                .unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{transport:?} {bad}");
            assert_eq!(err.message.as_deref(), Some("lifetime: must be positive"));
        }

        let mut totp = create_request(300);
        totp.checks.get_or_insert_default().totp = MessageField::some(pb::CheckTOTP {
            code: "123456".into(),
            ..Default::default()
        });
        let err = client.create_session(totp).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{transport:?}");
        assert_eq!(
            err.message.as_deref(),
            Some("the totp check is not supported by this server")
        );

        let stranger = v2_client(transport, &server.base, "not-a-key");
        let err = stranger
            .list_sessions(pb::ListSessionsRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Unauthenticated, "{transport:?}");
        assert_eq!(
            err.message.as_deref(),
            Some("Token is invalid (AUTH-7fs1e)")
        );

        assert_eq!(stored_sessions(&server).await, before, "{transport:?}");
    }
}

/// Every session in the store, through the service (not through the
/// transport under test).
async fn stored_sessions(server: &RpcServer) -> usize {
    let principal = server
        .app
        .services
        .auth
        .bearer(ADMIN_KEY)
        .await
        .unwrap()
        .unwrap();
    let (total, _) = server
        .app
        .services
        .sessions
        .search(&principal, Default::default())
        .await
        .unwrap();
    total as usize
}

#[tokio::test]
async fn a_missing_key_is_unauthenticated() {
    let server = start().await;
    for transport in TRANSPORTS {
        let (http, config) = client_config(transport, &server.base, "");
        let config = config.with_default_headers(Default::default());
        let client = pb::SessionServiceClient::new(http, config);
        let err = client
            .get_session(pb::GetSessionRequest {
                session_id: "x".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Unauthenticated, "{transport:?}");
        assert_eq!(err.message.as_deref(), Some("auth header missing"));
    }
}

#[tokio::test]
async fn an_expired_session_reads_lists_and_deletes_but_does_not_update() {
    let server = start().await;
    for transport in TRANSPORTS {
        let client = v2_client(transport, &server.base, ADMIN_KEY);
        let created = client
            .create_session(create_request(60))
            .await
            .unwrap()
            .into_owned();
        server.app.clock.advance(chrono::Duration::seconds(61));
        let err = client
            .set_session(pb::SetSessionRequest {
                session_id: created.session_id.clone(),
                lifetime: MessageField::some(seconds(600)),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::FailedPrecondition, "{transport:?}");
        assert_eq!(
            err.message.as_deref(),
            Some("Session has expired (COMMAND-Hkl3d)")
        );

        let got = client
            .get_session(pb::GetSessionRequest {
                session_id: created.session_id.clone(),
                session_token: Some(created.session_token.clone()),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: get expired: {e:?}"))
            .into_owned();
        // Unchanged by the refused update.
        assert_eq!(got.session.as_option().unwrap().sequence, 1);
        let listed = client
            .list_sessions(pb::ListSessionsRequest {
                queries: vec![ids_query(&[&created.session_id])],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_owned();
        assert_eq!(listed.sessions.len(), 1, "{transport:?}");
        client
            .delete_session(pb::DeleteSessionRequest {
                session_id: created.session_id.clone(),
                session_token: Some(created.session_token.clone()),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: delete expired: {e:?}"));
    }
}

#[tokio::test]
async fn list_queries_and_together_over_every_transport() {
    let server = start().await;
    let client = v2_client(Transport::ConnectProto, &server.base, ADMIN_KEY);
    let mut other_agent = create_request(300);
    other_agent
        .user_agent
        .get_or_insert_default()
        .fingerprint_id = Some("fingerprint-2".into());
    let first = client
        .create_session(create_request(300))
        .await
        .unwrap()
        .into_owned();
    server.app.clock.advance(chrono::Duration::seconds(10));
    let second = client
        .create_session(other_agent)
        .await
        .unwrap()
        .into_owned();
    let first_created = client
        .get_session(pb::GetSessionRequest {
            session_id: first.session_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_owned()
        .session
        .as_option()
        .unwrap()
        .creation_date
        .as_option()
        .unwrap()
        .clone();
    let by_agent = |fingerprint: Option<&str>| pb::SearchQuery {
        query: Some(
            pb::UserAgentQuery {
                fingerprint_id: fingerprint.map(str::to_string),
                ..Default::default()
            }
            .into(),
        ),
        ..Default::default()
    };
    let created_after = pb::SearchQuery {
        query: Some(
            pb::CreationDateQuery {
                creation_date: MessageField::some(first_created),
                method: TimestampQueryMethod::TIMESTAMP_QUERY_METHOD_GREATER.into(),
                ..Default::default()
            }
            .into(),
        ),
        ..Default::default()
    };
    let mine = pb::SearchQuery {
        query: Some(pb::CreatorQuery::default().into()),
        ..Default::default()
    };
    let cases: Vec<(Vec<pb::SearchQuery>, Vec<&str>)> = vec![
        (
            vec![by_agent(Some("fingerprint-1"))],
            vec![&first.session_id],
        ),
        (
            vec![by_agent(Some("fingerprint-2"))],
            vec![&second.session_id],
        ),
        (vec![created_after.clone()], vec![&second.session_id]),
        (
            vec![created_after.clone(), by_agent(Some("fingerprint-1"))],
            vec![],
        ),
        (
            vec![mine.clone()],
            vec![&first.session_id, &second.session_id],
        ),
        (vec![mine, created_after], vec![&second.session_id]),
    ];
    for transport in TRANSPORTS {
        let client = v2_client(transport, &server.base, ADMIN_KEY);
        for (queries, expected) in &cases {
            let listed = client
                .list_sessions(pb::ListSessionsRequest {
                    query: page(0, 10),
                    queries: queries.clone(),
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|e| panic!("{transport:?}: {e:?}"))
                .into_owned();
            let ids: Vec<&str> = listed.sessions.iter().map(|s| s.id.as_str()).collect();
            assert_eq!(&ids, expected, "{transport:?} {queries:?}");
            assert_eq!(
                listed.details.as_option().unwrap().total_result,
                expected.len() as u64
            );
        }
    }
}

#[tokio::test]
async fn v2beta_and_v2alpha_run_the_same_flow_with_their_own_rules() {
    let server = start().await;
    for transport in TRANSPORTS {
        // v2beta: the set request's token is ignored, as in v2.
        let (http, config) = client_config(transport, &server.base, ADMIN_KEY);
        let beta = v2beta::SessionServiceClient::new(http, config);
        let created = beta
            .create_session(v2beta::CreateSessionRequest {
                checks: MessageField::some(v2beta::Checks {
                    user: MessageField::some(v2beta::CheckUser {
                        search: Some(v2beta::__buffa::oneof::check_user::Search::LoginName(
                            LOGIN.into(),
                        )),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: v2beta create: {e:?}"))
            .into_owned();
        let set = beta
            .set_session(v2beta::SetSessionRequest {
                session_id: created.session_id.clone(),
                session_token: "not the token".into(),
                metadata: [("k".to_string(), b"v".to_vec())].into_iter().collect(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: v2beta set: {e:?}"))
            .into_owned();
        let got = beta
            .get_session(v2beta::GetSessionRequest {
                session_id: created.session_id.clone(),
                session_token: Some(set.session_token.clone()),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_owned();
        let session = got.session.as_option().unwrap();
        assert_eq!(
            session
                .factors
                .as_option()
                .unwrap()
                .user
                .as_option()
                .unwrap()
                .login_name,
            LOGIN
        );
        assert_eq!(session.metadata["k"], b"v".to_vec());

        // v2alpha: the set request's token must be the current one.
        let (http, config) = client_config(transport, &server.base, ADMIN_KEY);
        let alpha = v2alpha::SessionServiceClient::new(http, config);
        let created = alpha
            .create_session(v2alpha::CreateSessionRequest::default())
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: v2alpha create: {e:?}"))
            .into_owned();
        let err = alpha
            .set_session(v2alpha::SetSessionRequest {
                session_id: created.session_id.clone(),
                session_token: "not the token".into(),
                metadata: [("k".to_string(), b"v".to_vec())].into_iter().collect(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::PermissionDenied, "{transport:?}");
        assert_eq!(
            err.message.as_deref(),
            Some("Session Token is invalid (COMMAND-sGr42)")
        );
        let set = alpha
            .set_session(v2alpha::SetSessionRequest {
                session_id: created.session_id.clone(),
                session_token: created.session_token.clone(),
                metadata: [("k".to_string(), b"v".to_vec())].into_iter().collect(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{transport:?}: v2alpha set: {e:?}"))
            .into_owned();
        assert_ne!(set.session_token, created.session_token);
        let listed = alpha
            .list_sessions(v2alpha::ListSessionsRequest {
                queries: vec![v2alpha::SearchQuery {
                    query: Some(
                        v2alpha::IDsQuery {
                            ids: vec![created.session_id.clone()],
                            ..Default::default()
                        }
                        .into(),
                    ),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_owned();
        assert_eq!(listed.sessions.len(), 1);
        assert_eq!(listed.sessions[0].metadata["k"], b"v".to_vec());
    }
}

/// The REST gateway and the RPC transports render a domain error from the
/// same table: the HTTP status, the gRPC code and the message agree.
#[tokio::test]
async fn one_error_table_serves_rest_and_rpc() {
    let server = start().await;
    let http = reqwest::Client::new();
    // (REST request, RPC method and body) pairs that fail the same way.
    let cases = [
        (
            "GET",
            "/v2alpha/sessions/unknown".to_string(),
            None,
            "GetSession",
            json!({"sessionId": "unknown"}),
        ),
        (
            "POST",
            "/v2alpha/sessions".to_string(),
            Some(json!({"checks": {"user": {"loginName": "nobody@example.com"}}})),
            "CreateSession",
            json!({"checks": {"user": {"loginName": "nobody@example.com"}}}),
        ),
        (
            "POST",
            "/v2alpha/sessions".to_string(),
            Some(
                json!({"checks": {"user": {"loginName": LOGIN}, "password": {"password": "nope"}}}),
            ),
            "CreateSession",
            json!({"checks": {"user": {"loginName": LOGIN}, "password": {"password": "nope"}}}),
        ),
    ];
    for (method, path, body, rpc, rpc_body) in cases {
        let mut rest = http
            .request(method.parse().unwrap(), format!("{}{path}", server.base))
            .bearer_auth(ADMIN_KEY);
        if let Some(body) = body {
            rest = rest.json(&body);
        }
        let rest = rest.send().await.unwrap();
        let rest_status = rest.status().as_u16();
        let rest_body: Value = rest.json().await.unwrap();
        let connect = http
            .post(format!(
                "{}/zitadel.session.v2alpha.SessionService/{rpc}",
                server.base
            ))
            .bearer_auth(ADMIN_KEY)
            .json(&rpc_body)
            .send()
            .await
            .unwrap();
        let connect_status = connect.status().as_u16();
        let connect_body: Value = connect.json().await.unwrap();
        let code = ErrorCode::from_grpc_code(rest_body["code"].as_u64().unwrap() as u32).unwrap();
        assert_eq!(connect_body["code"], json!(code.as_str()), "{path}");
        assert_eq!(connect_body["message"], rest_body["message"], "{path}");
        assert_eq!(connect_status, code.http_status().as_u16());
        // ZITADEL's gateway and Connect agree on these statuses.
        assert_eq!(rest_status, connect_status, "{path}");
    }
}

#[tokio::test]
async fn connect_answers_200_with_string_codes_and_needs_no_protocol_header() {
    let server = start().await;
    let http = reqwest::Client::new();
    let url = |method: &str| format!("{}/zitadel.session.v2.SessionService/{method}", server.base);
    let created = http
        .post(url("CreateSession"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"lifetime": "300s", "metadata": {"k": "djE="}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    assert_eq!(created.headers()["content-type"], "application/json");
    let body: Value = created.json().await.unwrap();
    // int64 values go out as strings.
    assert_eq!(body["details"]["sequence"], json!("1"));
    let id = body["sessionId"].as_str().unwrap().to_string();

    // Proto field names are accepted beside lowerCamelCase; int64 as
    // numbers or strings; timestamps with an offset.
    let listed = http
        .post(url("ListSessions"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({
            "query": {"offset": 0, "limit": 10},
            "queries": [
                {"ids_query": {"ids": [id]}},
                {"creationDateQuery": {"creationDate": "2000-01-01T01:00:00+01:00", "method": "TIMESTAMP_QUERY_METHOD_GREATER"}}
            ]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let body: Value = listed.json().await.unwrap();
    assert_eq!(body["details"]["totalResult"], json!("1"));
    assert_eq!(body["sessions"][0]["id"], json!(id));
    let offset_as_string = http
        .post(url("ListSessions"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"query": {"offset": "0", "limit": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(offset_as_string.status(), 200);

    let missing = http
        .post(url("GetSession"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"sessionId": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap(),
        json!({"code": "not_found", "message": "Session does not exist (QUERY-SFeaa)"})
    );

    let malformed = http
        .post(url("CreateSession"))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["code"], json!("invalid_argument"));

    // A JSON array is not a message, though serde would read one.
    let array = http
        .post(url("CreateSession"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!([{"metadata": {}}]))
        .send()
        .await
        .unwrap();
    assert_eq!(array.status(), 400);
    assert_eq!(
        array.json::<Value>().await.unwrap(),
        json!({"code": "invalid_argument", "message": "the request body must be a JSON object"})
    );

    // On a documented route the body is held to the document: no nulls.
    let null = http
        .post(url("DeleteSession"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"sessionId": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(null.status(), 400);
    let body: Value = null.json().await.unwrap();
    assert_eq!(body["code"], json!("invalid_argument"));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("body.sessionId"),
        "{body}"
    );

    // An unsupported content type is refused in the Connect shape.
    let form = http
        .post(url("GetSession"))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("sessionId=x")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    assert!(
        form.headers()["accept-post"]
            .to_str()
            .unwrap()
            .contains("application/json")
    );
    let body: Value = form.json().await.unwrap();
    assert_eq!(body["code"], json!("invalid_argument"));
}

#[tokio::test]
async fn an_unknown_rpc_reads_the_body_and_answers_unimplemented() {
    let server = start().await;
    let http = reqwest::Client::new();
    // A large body on an unknown method: the answer arrives whole, not as
    // a reset connection.
    let body = json!({"padding": "x".repeat(200_000)});
    for path in [
        "/zitadel.session.v2.SessionService/Nope",
        "/zitadel.user.v2.UserService/GetUser",
    ] {
        let r = http
            .post(format!("{}{path}", server.base))
            .bearer_auth(ADMIN_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["code"], json!("unimplemented"), "{path}");
    }
}

#[tokio::test]
async fn health_and_reflection_answer_without_proto_files() {
    let server = start().await;
    let http = reqwest::Client::new();
    let health = http
        .post(format!("{}/grpc.health.v1.Health/Check", server.base))
        .json(&json!({"service": "zitadel.session.v2.SessionService"}))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({"status": "SERVING"})
    );
    let whole = http
        .post(format!("{}/grpc.health.v1.Health/Check", server.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        whole.json::<Value>().await.unwrap(),
        json!({"status": "SERVING"})
    );
}

/// The three versions' messages are wire-compatible: a v2 message read as
/// v2beta or v2alpha keeps every field they share, so the version adapters
/// can re-encode losslessly.
#[test]
fn versions_share_the_wire_form_of_their_common_fields() {
    use sessiond::api::rpc::versions::transcode;
    let v2_request = create_request(300);
    let beta: v2beta::CreateSessionRequest = transcode(&v2_request).unwrap();
    let alpha: v2alpha::CreateSessionRequest = transcode(&v2_request).unwrap();
    let v2_json = serde_json::to_value(&v2_request).unwrap();
    assert_eq!(serde_json::to_value(&beta).unwrap(), v2_json);
    assert_eq!(serde_json::to_value(&alpha).unwrap(), v2_json);
    let back: pb::CreateSessionRequest = transcode(&alpha).unwrap();
    assert_eq!(back, v2_request);
}

/// A gRPC error is one HEADERS frame that ends the stream (Trailers-Only):
/// the status is not sent a second time in trailers.
#[tokio::test]
async fn grpc_errors_are_trailers_only() {
    use http_body_util::BodyExt;
    let server = start().await;
    let stream = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    // GetSession{sessionId: "x"} in a gRPC envelope.
    const MESSAGE: &[u8] = &[0, 0, 0, 0, 3, 0x0a, 0x01, b'x'];
    for (key, status) in [("not-a-key", "16"), (ADMIN_KEY, "5")] {
        let request = poem::http::Request::post(format!(
            "{}/zitadel.session.v2.SessionService/GetSession",
            server.base
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {key}"))
        .body(http_body_util::Full::new(MESSAGE))
        .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["grpc-status"], status);
        assert!(response.headers().contains_key("grpc-message"));
        let collected = response.into_body().collect().await.unwrap();
        assert!(
            collected.trailers().is_none(),
            "status {status} repeated in trailers"
        );
        assert!(collected.to_bytes().is_empty());
    }
}

#[tokio::test]
async fn user_agents_and_id_queries_have_limits() {
    let server = start().await;
    for transport in [Transport::ConnectJson, Transport::Grpc] {
        let client = v2_client(transport, &server.base, ADMIN_KEY);
        let before = stored_sessions(&server).await;
        let mut long = create_request(300);
        long.user_agent.get_or_insert_default().description = Some("d".repeat(1001));
        let err = client.create_session(long).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{transport:?}");
        assert_eq!(
            err.message.as_deref(),
            Some("userAgent.description exceeds the maximum of 1000 (SESSION-L1m1t)")
        );
        let mut many = create_request(300);
        many.user_agent.get_or_insert_default().header = (0..51)
            .map(|i| (format!("h{i}"), pb::user_agent::HeaderValues::default()))
            .collect();
        let err = client.create_session(many).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{transport:?}");
        assert_eq!(stored_sessions(&server).await, before);

        let ids: Vec<String> = (0..1001).map(|i| format!("id{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let err = client
            .list_sessions(pb::ListSessionsRequest {
                queries: vec![ids_query(&refs)],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{transport:?}");
        assert_eq!(
            err.message.as_deref(),
            Some("idsQuery.ids exceeds the maximum of 1000 (SESSION-L1m1t)")
        );
    }
}

#[tokio::test]
async fn lifetimes_and_offsets_beyond_what_the_wire_carries_are_refused() {
    let server = start().await;
    let client = v2_client(Transport::ConnectJson, &server.base, ADMIN_KEY);
    let before = stored_sessions(&server).await;
    // 10,000 years: the expiry would not fit a protobuf Timestamp.
    let err = client
        .create_session(create_request(315_576_000_000))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert_eq!(
        err.message.as_deref(),
        Some("lifetime: the session would expire after 9999-12-31T23:59:59Z")
    );
    assert_eq!(stored_sessions(&server).await, before);
    // 2^63 over JSON, 2^64 - 1 over the binary form.
    let binary = v2_client(Transport::ConnectProto, &server.base, ADMIN_KEY);
    for (client, offset) in [(&client, 1u64 << 63), (&binary, u64::MAX)] {
        let err = client
            .list_sessions(pb::ListSessionsRequest {
                query: page(offset, 10),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert_eq!(
            err.message.as_deref(),
            Some("query.offset exceeds the maximum of 9223372036854775807 (SESSION-L1m1t)")
        );
    }
    // Every RPC is a POST; other methods name it.
    let r = reqwest::Client::new()
        .get(format!(
            "{}/zitadel.session.v2.SessionService/ListSessions",
            server.base
        ))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
}

/// Every domain error, through the one table: the REST gateway's HTTP
/// status and `code`, the Connect code with its HTTP status, and the gRPC
/// status number all name the same ZITADEL code.
#[tokio::test]
async fn every_domain_error_maps_alike_on_every_transport() {
    use poem::IntoResponse;
    use sessiond::api::zitadel::error::ZitadelError;
    use sessiond::api::zitadel::status::Status;
    use sessiond::domain::Error;
    let all = |e: &Error| match e {
        // Listed so that a new variant does not compile until it is here.
        Error::SessionNotFound
        | Error::SessionTerminated
        | Error::SessionExpired
        | Error::SessionIdle
        | Error::SessionTokenInvalid
        | Error::PermissionDenied
        | Error::UserNotFound
        | Error::UserNotActive
        | Error::UserChangeNotPossible
        | Error::UserIdMissing
        | Error::PasswordInvalid
        | Error::LoginNameTaken
        | Error::KeyNotFound
        | Error::UnknownIdStore
        | Error::SessionLimitReached
        | Error::SearchLimitTooLarge { .. }
        | Error::HashingBusy
        | Error::TooLarge { .. }
        | Error::InvalidText { .. }
        | Error::Unavailable(_)
        | Error::Internal(_) => (),
    };
    let errors = vec![
        Error::SessionNotFound,
        Error::SessionTerminated,
        Error::SessionExpired,
        Error::SessionIdle,
        Error::SessionTokenInvalid,
        Error::PermissionDenied,
        Error::UserNotFound,
        Error::UserNotActive,
        Error::UserChangeNotPossible,
        Error::UserIdMissing,
        Error::PasswordInvalid,
        Error::LoginNameTaken,
        Error::KeyNotFound,
        Error::UnknownIdStore,
        Error::SessionLimitReached,
        Error::SearchLimitTooLarge { max: 1000 },
        Error::HashingBusy,
        Error::TooLarge {
            what: "metadata",
            max: 100,
        },
        Error::InvalidText { what: "login name" },
        Error::Unavailable(anyhow::anyhow!("down")),
        Error::Internal(anyhow::anyhow!("bug")),
    ];
    for error in &errors {
        all(error);
        let status = Status::from(error);
        let rest = ZitadelError::from(Status::from(error)).into_response();
        let rest_status = rest.status();
        let body: Value =
            serde_json::from_slice(&rest.into_body().into_bytes().await.unwrap()).unwrap();
        assert_eq!(body["code"], json!(status.code.number()), "{error:?}");
        assert_eq!(body["message"], json!(status.message()), "{error:?}");
        assert_eq!(rest_status, status.code.http_status(), "{error:?}");
        let connect = connectrpc::ConnectError::from(status.clone());
        assert_eq!(
            connect.code,
            sessiond::api::rpc::status::error_code(status.code),
            "{error:?}"
        );
        assert_eq!(
            connect.code.grpc_code() as i32,
            status.code.number(),
            "{error:?}"
        );
        assert_eq!(connect.message.as_deref(), Some(status.message().as_str()));
    }
}
