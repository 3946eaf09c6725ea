//! Limits that must hold under parallel requests: the per-user session
//! limit and password lockout, on one node and on two nodes sharing one
//! database (two PostgreSQL pools on one schema, or two SQLite pools on one
//! file). Requests run as spawned tasks on a multi-threaded runtime, so they
//! truly overlap.

use std::sync::Arc;

use poem::EndpointExt;
use poem::endpoint::BoxEndpoint;
use poem::http::{Method, StatusCode};
use poem::test::TestClient;
use serde_json::{Value, json};
use sessiond::clock::Clock;
use sessiond::config::{Config, SessionLimitPolicy};
use sessiond::service::Services;
use sessiond::store::Store;

use crate::helpers::{ADMIN_KEY, OAM_SESSION, TestApp, zitadel_error};

const ZITADEL_SESSIONS: &str = "/v2alpha/sessions";

fn limit_reached() -> Value {
    zitadel_error(
        9,
        "SESSION-Lm8x4",
        "Maximum number of sessions for the user reached",
    )
}

fn not_active() -> Value {
    zitadel_error(9, "SESSION-Gj4ko", "User is not active")
}

fn password_invalid() -> Value {
    zitadel_error(3, "COMMAND-SAF3g", "Password is invalid")
}

fn deny(max: u64) -> impl Fn(&mut Config) + Clone {
    move |c: &mut Config| {
        c.max_sessions_per_user = max;
        c.session_limit_policy = SessionLimitPolicy::Deny;
    }
}

fn evict(max: u64) -> impl Fn(&mut Config) + Clone {
    move |c: &mut Config| {
        c.max_sessions_per_user = max;
        c.session_limit_policy = SessionLimitPolicy::EvictOldest;
    }
}

fn lockout(threshold: u32) -> impl Fn(&mut Config) + Clone {
    move |c: &mut Config| c.lockout_threshold = threshold
}

/// What a node answered.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    body: Value,
}

/// One instance of the service over the test app's database (the same
/// SQLite file or PostgreSQL schema), with its own store (pools), services
/// (hasher, caches) and routes. Two of them are two nodes.
#[derive(Clone)]
struct Node {
    client: Arc<TestClient<BoxEndpoint<'static>>>,
    services: Services,
}

impl Node {
    async fn join(app: &TestApp, tweak: impl FnOnce(&mut Config)) -> Node {
        // A long acquire timeout: these tests measure exactness, and a burst
        // of 64 on a loaded machine may queue for a connection longer than
        // the 1 s default (which would answer 503 and count nothing).
        let store = Store::open_with(
            &app.db.url,
            4,
            app.db.schema.as_deref(),
            std::time::Duration::from_secs(30),
        )
        .await
        .expect("node connects");
        let mut config = Config::for_tests(&app.db.url);
        tweak(&mut config);
        let clock: Arc<dyn Clock> = app.clock.clone();
        let services = sessiond::startup::services(&config, store, clock)
            .await
            .expect("second node services");
        Node {
            client: Arc::new(TestClient::new(
                sessiond::api::routes(services.clone()).boxed(),
            )),
            services,
        }
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        let resp = self
            .client
            .post(path)
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
            .body_json(&body)
            .send()
            .await;
        let status = resp.0.status();
        let bytes = resp.0.into_body().into_bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer { status, body }
    }

    fn verifications(&self) -> u64 {
        self.services.hasher.verifications()
    }
}

/// Sends `bodies[i]` to `nodes[i % nodes.len()]`, all at once, each request
/// on a task of its own; answers come back in request order.
async fn burst(nodes: &[Node], requests: Vec<(&'static str, Value)>) -> Vec<Answer> {
    let tasks: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(i, (path, body))| {
            let node = nodes[i % nodes.len()].clone();
            tokio::spawn(async move { node.post(path, body).await })
        })
        .collect();
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("request task"))
        .collect()
}

async fn active(app: &TestApp, user_id: &str) -> Vec<String> {
    app.store
        .active_sessions_of_user(user_id, app.clock.now())
        .await
        .expect("active sessions")
}

/// Creates for `login`, alternating ZITADEL and OAM, so both paths race.
fn creates(login: &str, n: usize) -> Vec<(&'static str, Value)> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                (
                    ZITADEL_SESSIONS,
                    json!({"checks": {"user": {"loginName": login}}}),
                )
            } else {
                (OAM_SESSION, json!({"userId": login}))
            }
        })
        .collect()
}

fn created_id(a: &Answer) -> Option<String> {
    match a.status {
        StatusCode::CREATED => a.body["sessionId"].as_str().map(str::to_owned),
        StatusCode::OK => a.body["sessionId"].as_str().map(str::to_owned),
        _ => None,
    }
}

/// Checks a burst under `deny`: exactly `max` created, and every other
/// answer is the dialect's limit error.
fn assert_deny_burst(answers: &[Answer], max: usize) -> Vec<String> {
    let mut created = Vec::new();
    for a in answers {
        if let Some(id) = created_id(a) {
            created.push(id);
            continue;
        }
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
        if a.body["code"].is_number() {
            assert_eq!(a.body, limit_reached());
        } else {
            assert_eq!(a.body["code"], "SESSION_LIMIT_REACHED", "{}", a.body);
        }
    }
    assert_eq!(created.len(), max, "sessions created in the burst");
    created
}

async fn limit_deny_holds(nodes: &[Node], app: &TestApp, label: &str) {
    const MAX: usize = 3;
    const BURST: usize = 64;
    for round in 0..3 {
        let login = format!("deny-{round}");
        let user_id = app.create_user(&login, "deny-pass-1").await;
        let answers = burst(nodes, creates(&login, BURST)).await;
        let mut created = assert_deny_burst(&answers, MAX);
        let mut now_active = active(app, &user_id).await;
        eprintln!(
            "[{label}] deny round {round}: {} active, {} refused",
            now_active.len(),
            BURST - created.len()
        );
        created.sort();
        now_active.sort();
        assert_eq!(now_active, created);

        // Full: a second burst creates nothing.
        let answers = burst(nodes, creates(&login, 16)).await;
        assert_deny_burst(&answers, 0);
        assert_eq!(active(app, &user_id).await.len(), MAX);

        // One ended frees exactly one place, however many race for it.
        app.store
            .terminate_sessions(&created[..1], app.clock.now())
            .await
            .unwrap();
        let answers = burst(nodes, creates(&login, 32)).await;
        assert_deny_burst(&answers, 1);
        assert_eq!(active(app, &user_id).await.len(), MAX);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deny_leaves_exactly_the_limit_after_parallel_creates() {
    let app = TestApp::spawn_with(deny(3)).await;
    limit_deny_holds(&[Node::join(&app, deny(3)).await], &app, "one node").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deny_holds_across_two_nodes_on_one_database() {
    let app = TestApp::spawn_with(deny(3)).await;
    let nodes = [
        Node::join(&app, deny(3)).await,
        Node::join(&app, deny(3)).await,
    ];
    limit_deny_holds(&nodes, &app, "two nodes").await;
}

async fn evict_oldest_holds(nodes: &[Node], app: &TestApp, label: &str) {
    const MAX: usize = 3;
    let login = "evictee";
    let user_id = app.create_user(login, "evict-pass-1").await;

    // Sequential: after each create, the newest MAX survive.
    let mut sequential = Vec::new();
    for (path, body) in creates(login, 5) {
        app.clock.advance(chrono::Duration::seconds(1));
        let a = nodes[sequential.len() % nodes.len()].post(path, body).await;
        sequential.push(created_id(&a).unwrap_or_else(|| panic!("{}", a.body)));
        let mut now_active = active(app, &user_id).await;
        now_active.sort();
        let keep = sequential.len().saturating_sub(MAX);
        let mut newest = sequential[keep..].to_vec();
        newest.sort();
        assert_eq!(now_active, newest, "the newest survive");
    }

    // Parallel, later: every create succeeds, no more than MAX remain, and
    // all of them are from this burst.
    for round in 0..3 {
        app.clock.advance(chrono::Duration::seconds(1));
        let before = active(app, &user_id).await;
        let answers = burst(nodes, creates(login, 48)).await;
        let created: Vec<String> = answers
            .iter()
            .map(|a| created_id(a).unwrap_or_else(|| panic!("{} {}", a.status, a.body)))
            .collect();
        let now_active = active(app, &user_id).await;
        eprintln!(
            "[{label}] evict round {round}: {} created, {} active",
            created.len(),
            now_active.len()
        );
        assert_eq!(now_active.len(), MAX);
        assert!(
            now_active.iter().all(|id| created.contains(id)),
            "survivors are from the newest burst"
        );
        assert!(before.iter().all(|id| !now_active.contains(id)));
    }

    // A burst smaller than the limit ends only the oldest of the rest.
    app.clock.advance(chrono::Duration::seconds(1));
    let before = active(app, &user_id).await;
    let answers = burst(nodes, creates(login, 2)).await;
    let created: Vec<String> = answers.iter().filter_map(created_id).collect();
    assert_eq!(created.len(), 2);
    let now_active = active(app, &user_id).await;
    assert_eq!(now_active.len(), MAX);
    assert!(created.iter().all(|id| now_active.contains(id)));
    let kept: Vec<&String> = now_active
        .iter()
        .filter(|id| !created.contains(id))
        .collect();
    assert_eq!(kept.len(), 1);
    assert!(before.contains(kept[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn evict_oldest_never_exceeds_the_limit_and_keeps_the_newest() {
    let app = TestApp::spawn_with(evict(3)).await;
    evict_oldest_holds(&[Node::join(&app, evict(3)).await], &app, "one node").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn evict_oldest_holds_across_two_nodes_on_one_database() {
    let app = TestApp::spawn_with(evict(3)).await;
    let nodes = [
        Node::join(&app, evict(3)).await,
        Node::join(&app, evict(3)).await,
    ];
    evict_oldest_holds(&nodes, &app, "two nodes").await;
}

fn password_check(user_id: &str, password: &str) -> (&'static str, Value) {
    (
        ZITADEL_SESSIONS,
        json!({"checks": {"user": {"userId": user_id}, "password": {"password": password}}}),
    )
}

async fn user_state(app: &TestApp, user_id: &str) -> (String, u64) {
    let r = app
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (
        r.body["state"].as_str().unwrap().to_owned(),
        r.body["failedAttempts"].as_u64().unwrap(),
    )
}

fn verifications(nodes: &[Node]) -> u64 {
    nodes.iter().map(Node::verifications).sum()
}

/// Once locked, every answer is "not active", whatever the password, and
/// no password is verified any more.
async fn assert_locked_for_good(nodes: &[Node], app: &TestApp, user_id: &str, right: &str) {
    let before = verifications(nodes);
    let mut requests = Vec::new();
    for _ in 0..4 {
        requests.push(password_check(user_id, "wrong-again"));
        requests.push(password_check(user_id, right));
    }
    for a in burst(nodes, requests).await {
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(a.body, not_active());
    }
    assert_eq!(verifications(nodes), before, "no argon2 once locked");
    assert_eq!(user_state(app, user_id).await.0, "locked");
}

async fn wrong_passwords_lock_exactly(
    nodes: &[Node],
    app: &TestApp,
    threshold: usize,
    attempts: usize,
    label: &str,
) {
    let right = "right-pass-1";
    let user_id = app.create_user("target", right).await;
    let before = verifications(nodes);
    let requests = (0..attempts)
        .map(|i| password_check(&user_id, &format!("wrong-{i}")))
        .collect();
    let answers = burst(nodes, requests).await;
    let verified = verifications(nodes) - before;
    let invalid = answers
        .iter()
        .filter(|a| a.body == password_invalid())
        .count();
    let locked = answers.iter().filter(|a| a.body == not_active()).count();
    eprintln!(
        "[{label}] threshold {threshold}, {attempts} wrong: {verified} verified, \
         {invalid} invalid, {locked} not active"
    );
    let other: Vec<_> = answers
        .iter()
        .filter(|a| a.body != password_invalid() && a.body != not_active())
        .map(|a| format!("{} {}", a.status, a.body))
        .collect();
    assert!(other.is_empty(), "only these two answers: {other:?}");
    assert_eq!(verified as usize, threshold, "argon2 runs before the lock");
    assert_eq!(invalid, threshold);
    assert_eq!(
        user_state(app, &user_id).await,
        ("locked".to_owned(), threshold as u64)
    );
    assert_locked_for_good(nodes, app, &user_id, right).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_verify_at_most_the_threshold() {
    let app = TestApp::spawn_with(lockout(5)).await;
    wrong_passwords_lock_exactly(
        &[Node::join(&app, lockout(5)).await],
        &app,
        5,
        64,
        "one node",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn threshold_ten_with_thirty_wrong_passwords() {
    let app = TestApp::spawn_with(lockout(10)).await;
    wrong_passwords_lock_exactly(
        &[Node::join(&app, lockout(10)).await],
        &app,
        10,
        30,
        "one node",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lockout_holds_across_two_nodes_on_one_database() {
    let app = TestApp::spawn_with(lockout(5)).await;
    let nodes = [
        Node::join(&app, lockout(5)).await,
        Node::join(&app, lockout(5)).await,
    ];
    wrong_passwords_lock_exactly(&nodes, &app, 5, 64, "two nodes").await;
}

/// The right password in a burst of wrong ones: unless it was checked
/// before the lock (it got one of the threshold's slots: then it is a
/// success), its answer is the same as every refused wrong one, so the burst
/// does not tell which guess was right. Three rounds, a fresh user each.
async fn right_password_is_no_oracle(nodes: &[Node], app: &TestApp, label: &str) {
    const THRESHOLD: u64 = 5;
    let right = "right-pass-1";
    for round in 0..3 {
        let user_id = app.create_user(&format!("oracle-{round}"), right).await;
        let before = verifications(nodes);
        let requests = (0..64)
            .map(|i| {
                if i == 40 {
                    password_check(&user_id, right)
                } else {
                    password_check(&user_id, &format!("wrong-{i}"))
                }
            })
            .collect();
        let answers = burst(nodes, requests).await;
        let verified = verifications(nodes) - before;
        let right_answer = &answers[40];
        let invalid = answers
            .iter()
            .filter(|a| a.body == password_invalid())
            .count() as u64;
        let refused = answers.iter().filter(|a| a.body == not_active()).count() as u64;
        eprintln!(
            "[{label}] round {round}, right password at 40: {}; {verified} verified, \
             {invalid} invalid, {refused} not active",
            right_answer.status
        );
        for (i, a) in answers.iter().enumerate() {
            if i != 40 {
                assert!(
                    a.body == password_invalid() || a.body == not_active(),
                    "{i}: {}",
                    a.body
                );
            }
        }
        if right_answer.status == StatusCode::CREATED {
            // It held one of the first THRESHOLD slots and reset the count
            // when it settled, so at most one more round of failures ran.
            assert!(verified <= 2 * THRESHOLD, "{verified}");
            assert!(invalid < 2 * THRESHOLD, "{invalid}");
            // Lock the user now, one wrong password at a time.
            let mut counted = 0;
            loop {
                let (path, body) = password_check(&user_id, "wrong-after");
                let a = nodes[0].post(path, body).await;
                if a.body == not_active() {
                    break;
                }
                assert_eq!(a.body, password_invalid());
                counted += 1;
                assert!(counted <= THRESHOLD);
            }
        } else {
            assert_eq!(right_answer.status, StatusCode::BAD_REQUEST);
            assert_eq!(right_answer.body, not_active());
            assert_eq!(verified, THRESHOLD);
            assert_eq!(invalid, THRESHOLD);
            // Its answer is one of many identical ones.
            assert_eq!(refused, 64 - THRESHOLD);
            assert_eq!(
                user_state(app, &user_id).await,
                ("locked".to_owned(), THRESHOLD)
            );
        }
        assert_locked_for_good(nodes, app, &user_id, right).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_right_password_in_a_burst_is_answered_like_the_wrong_ones() {
    let app = TestApp::spawn_with(lockout(5)).await;
    right_password_is_no_oracle(&[Node::join(&app, lockout(5)).await], &app, "one node").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_right_password_is_no_oracle_across_two_nodes() {
    let app = TestApp::spawn_with(lockout(5)).await;
    let nodes = [
        Node::join(&app, lockout(5)).await,
        Node::join(&app, lockout(5)).await,
    ];
    right_password_is_no_oracle(&nodes, &app, "two nodes").await;
}

/// A correct password while lockout is counting releases its slot and
/// resets the count; a slot stays free for the next checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_correct_password_releases_its_reservation() {
    let app = TestApp::spawn_with(lockout(2)).await;
    let nodes = [Node::join(&app, lockout(2)).await];
    let user_id = app.create_user("releaser", "right-pass-1").await;
    for _ in 0..10 {
        let answers = burst(&nodes, vec![password_check(&user_id, "right-pass-1"); 2]).await;
        for a in answers {
            assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        }
    }
    let a = nodes[0]
        .post(ZITADEL_SESSIONS, password_check(&user_id, "wrong").1)
        .await;
    assert_eq!(a.body, password_invalid());
    assert_eq!(user_state(&app, &user_id).await, ("active".to_owned(), 1));
}

async fn pending_attempts(app: &TestApp, user_id: &str) -> i32 {
    use sea_orm::EntityTrait;
    entity::user::Entity::find_by_id(user_id.to_owned())
        .one(app.store.connection())
        .await
        .unwrap()
        .expect("user row")
        .pending_attempts
}

/// Polls until the user's pending count is `want`, for up to a minute (the
/// slow verify below runs at low priority on a possibly busy machine).
async fn wait_for_pending(app: &TestApp, user_id: &str, want: i32) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if pending_attempts(app, user_id).await == want {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    false
}

/// A request dropped while its password is being verified (the client went
/// away) still settles its reservation: with threshold 1 and a clock that
/// never moves, a leaked slot would refuse the next check for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dropped_request_does_not_leak_its_reservation() {
    let app = TestApp::spawn_with(lockout(1)).await;
    let node = Node::join(&app, lockout(1)).await;
    let password = "right-pass-1";
    let user_id = app.create_user("dropper", password).await;
    // A costly hash of the same password (t = 40, about a second per
    // verify), so the check is surely mid-verify when it is dropped.
    let slow = sessiond::password::PasswordHasher::new(
        argon2::Params::new(19 * 1024, 40, 1, None).unwrap(),
        1,
        1,
    )
    .unwrap();
    let hash = slow
        .hash(&sessiond::domain::session::Password::new(password.into()))
        .await
        .unwrap();
    assert!(
        app.store
            .set_password_hash(&user_id, &hash, app.clock.now())
            .await
            .unwrap()
    );

    let (path, body) = password_check(&user_id, password);
    let request = {
        let node = node.clone();
        let body = body.clone();
        tokio::spawn(async move { node.post(path, body).await })
    };
    assert!(
        wait_for_pending(&app, &user_id, 1).await,
        "the check reserved a slot"
    );
    request.abort();
    assert!(request.await.unwrap_err().is_cancelled());
    assert!(
        wait_for_pending(&app, &user_id, 0).await,
        "the slot is settled after the drop"
    );
    let a = node.post(path, body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
}
