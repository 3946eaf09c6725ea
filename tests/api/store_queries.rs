//! The store's one-statement reads and writes: `find_session` and
//! `search_sessions` with their metadata joined in (and the count in the
//! same statement), and `revoke_session`'s conditional UPDATE … RETURNING,
//! checked for the same answers the multi-statement versions gave, and
//! their plans checked for the indexes they need.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use sessiond::domain::{
    ClientContext, Error, Permission, Principal, Session, SessionApi, SessionSearch, UserFactor,
};
use sessiond::store::sessions::RevokeBy;

use crate::helpers::TestApp;

fn session(app: &TestApp, n: i64, user: Option<&str>, creator: &str) -> Session {
    let now = app.services.sessions.now() + chrono::Duration::microseconds(n);
    Session {
        id: format!("s{n:06}"),
        token_hash: sessiond::ids::hash_secret(&format!("token-{n}")),
        creator_key_id: creator.to_owned(),
        resource_owner: "owner".to_owned(),
        user: user.map(|u| UserFactor {
            user_id: u.to_owned(),
            login_name: u.to_owned(),
            display_name: u.to_owned(),
            verified_at: now,
        }),
        password_verified_at: None,
        metadata: Default::default(),
        created_at: now,
        changed_at: now,
        sequence: 1,
        expires_at: None,
        idle_timeout: None,
        last_access_at: now,
        client: ClientContext::default(),
        id_store_name: Some("UserIdentityStore".to_owned()),
        is_impersonating: false,
        session_index: format!("index-{n}"),
        terminated_at: None,
    }
}

fn principal(key_id: &str, permissions: &[Permission]) -> Principal {
    Principal {
        key_id: key_id.to_owned(),
        permissions: permissions.iter().copied().collect::<BTreeSet<_>>(),
    }
}

async fn metadata_rows(app: &TestApp, id: &str) -> i64 {
    let db = app.store.connection();
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT COUNT(*) AS n FROM session_metadata WHERE session_id = $1",
        _ => "SELECT COUNT(*) AS n FROM session_metadata WHERE session_id = ?",
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

#[tokio::test]
async fn find_session_reads_the_row_and_all_its_metadata_at_once() {
    let app = TestApp::spawn().await;
    let mut with = session(&app, 1, Some("u1"), "k");
    for key in ["a", "b", "c"] {
        with.metadata
            .insert(key.to_owned(), format!("value {key}").into_bytes());
    }
    app.store.insert_session(&with).await.expect("insert");
    let without = session(&app, 2, None, "k");
    app.store.insert_session(&without).await.expect("insert");

    assert_eq!(
        app.store.find_session(&with.id).await.expect("find"),
        Some(with)
    );
    assert_eq!(
        app.store.find_session(&without.id).await.expect("find"),
        Some(without)
    );
    assert_eq!(app.store.find_session("nope").await.expect("find"), None);
}

#[tokio::test]
async fn search_pages_carry_their_metadata_and_an_exact_total() {
    let app = TestApp::spawn().await;
    let mut all = Vec::new();
    for n in 0..25 {
        let mut s = session(&app, n, Some(if n % 2 == 0 { "even" } else { "odd" }), "k");
        for m in 0..(n % 3) {
            s.metadata.insert(format!("m{m}"), vec![n as u8, m as u8]);
        }
        app.store.insert_session(&s).await.expect("insert");
        all.push(s);
    }
    // One terminated session of the user: never counted, never listed.
    let gone = session(&app, 100, Some("even"), "k");
    app.store.insert_session(&gone).await.expect("insert");
    app.store
        .terminate_sessions(std::slice::from_ref(&gone.id), app.services.sessions.now())
        .await
        .expect("terminate");

    let even: Vec<Session> = all
        .iter()
        .filter(|s| s.id.ends_with(['0', '2', '4', '6', '8']))
        .cloned()
        .collect();
    let by_user = |offset, ascending| SessionSearch {
        user_id: Some("even".to_owned()),
        offset,
        ascending,
        ..SessionSearch::default()
    };
    let newest_first: Vec<Session> = even.iter().rev().cloned().collect();

    // A full page: the total is every match.
    let (total, page) = app
        .store
        .search_sessions(&by_user(0, false), 5)
        .await
        .expect("search");
    assert_eq!(total, 13);
    assert_eq!(page, newest_first[..5].to_vec());
    // A short last page, ascending.
    let (total, page) = app
        .store
        .search_sessions(&by_user(10, true), 5)
        .await
        .expect("search");
    assert_eq!(total, 13);
    assert_eq!(page, even[10..].to_vec());
    // Past the end: no rows, still the exact total.
    let (total, page) = app
        .store
        .search_sessions(&by_user(40, false), 5)
        .await
        .expect("search");
    assert_eq!((total, page.len()), (13, 0));
    // Nothing matches.
    let none = SessionSearch {
        user_id: Some("nobody".to_owned()),
        ..SessionSearch::default()
    };
    assert_eq!(
        app.store.search_sessions(&none, 5).await.expect("search"),
        (0, Vec::new())
    );
    // Everything, in one page larger than the matches.
    let (total, page) = app
        .store
        .search_sessions(&SessionSearch::default(), 100)
        .await
        .expect("search");
    assert_eq!(total, 25);
    assert_eq!(page, all.iter().rev().cloned().collect::<Vec<_>>());
}

#[tokio::test]
async fn revoke_is_one_conditional_write_with_the_old_answers() {
    let app = TestApp::spawn().await;
    let sessions = &app.services.sessions;
    let now = sessions.now();
    let mut s = session(&app, 1, Some("u"), "creator");
    s.metadata.insert("k".to_owned(), b"v".to_vec());
    app.store.insert_session(&s).await.expect("insert");

    // A wrong token, another key: nothing happens.
    for by in [
        RevokeBy::TokenHash(sessiond::ids::hash_secret("wrong")),
        RevokeBy::Creator("other".to_owned()),
    ] {
        assert_eq!(
            app.store
                .revoke_session(&s.id, &by, now)
                .await
                .expect("revoke"),
            None
        );
    }
    assert_eq!(metadata_rows(&app, &s.id).await, 1);
    let stranger = principal("other", &[]);
    assert!(matches!(
        sessions
            .delete_with(&stranger, &s.id, Some("wrong"), SessionApi::V2)
            .await,
        Err(Error::SessionTokenInvalid)
    ));
    assert!(matches!(
        sessions
            .delete_with(&stranger, &s.id, None, SessionApi::V2)
            .await,
        Err(Error::PermissionDenied)
    ));

    // The token: terminated, sequence moved on, metadata gone.
    let details = sessions
        .delete_with(&stranger, &s.id, Some("token-1"), SessionApi::V2)
        .await
        .expect("delete");
    assert_eq!(details.sequence, 2);
    assert_eq!(details.resource_owner, "owner");
    let stored = app
        .store
        .find_session(&s.id)
        .await
        .expect("find")
        .expect("kept");
    assert!(stored.is_terminated());
    assert_eq!(stored.sequence, 2);
    assert!(stored.metadata.is_empty());
    assert_eq!(metadata_rows(&app, &s.id).await, 0);

    // Again: the same details, no second write.
    let again = sessions
        .delete_with(&stranger, &s.id, Some("token-1"), SessionApi::V2)
        .await
        .expect("delete again");
    assert_eq!(again.sequence, 2);
    assert_eq!(
        app.store
            .revoke_session(&s.id, &RevokeBy::Anyone, now)
            .await
            .expect("revoke"),
        None
    );

    // The creating key under v2, and `session.delete`, without a token.
    for (n, caller) in [
        (2, principal("creator", &[])),
        (3, principal("admin", &[Permission::SessionDelete])),
    ] {
        let s = session(&app, n, None, "creator");
        app.store.insert_session(&s).await.expect("insert");
        let details = sessions
            .delete_with(&caller, &s.id, None, SessionApi::V2)
            .await
            .expect("delete");
        assert_eq!(details.sequence, 2);
        assert!(
            app.store
                .find_session(&s.id)
                .await
                .expect("find")
                .expect("kept")
                .is_terminated()
        );
    }
    // Unknown: still a success for `session.delete`.
    let admin = principal("admin", &[Permission::SessionDelete]);
    let details = sessions
        .delete_with(&admin, "nope", None, SessionApi::V2)
        .await
        .expect("unknown");
    assert_eq!(details.sequence, 0);
}

/// The plan of a statement: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's
/// EXPLAIN with sequential scans discouraged (the tables are tiny).
async fn plan(app: &TestApp, stmt: Statement) -> String {
    let db = app.store.connection();
    let backend = db.get_database_backend();
    let values = stmt.values.clone().unwrap_or(sea_orm::Values(Vec::new()));
    let lines: Vec<String> = match backend {
        DbBackend::Sqlite => {
            let explain = Statement::from_sql_and_values(
                backend,
                format!("EXPLAIN QUERY PLAN {}", stmt.sql),
                values,
            );
            db.query_all_raw(explain)
                .await
                .expect("explain")
                .iter()
                .map(|row| row.try_get::<String>("", "detail").expect("detail"))
                .collect()
        }
        DbBackend::Postgres => {
            let txn = db.begin().await.expect("begin");
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .expect("set");
            let explain =
                Statement::from_sql_and_values(backend, format!("EXPLAIN {}", stmt.sql), values);
            let rows = txn.query_all_raw(explain).await.expect("explain");
            txn.rollback().await.expect("rollback");
            rows.iter()
                .map(|row| row.try_get::<String>("", "QUERY PLAN").expect("plan"))
                .collect()
        }
        other => panic!("unexpected backend {other:?}"),
    };
    lines.join("\n")
}

#[tokio::test]
async fn the_one_statement_reads_use_their_indexes() {
    let app = TestApp::spawn().await;
    for n in 0..30 {
        let mut s = session(&app, n, Some(&format!("u{}", n % 3)), "k");
        s.metadata.insert("a".to_owned(), b"b".to_vec());
        app.store.insert_session(&s).await.expect("insert");
    }
    let backend = app.store.connection().get_database_backend();

    let find = plan(&app, app.store.find_statement("s000001")).await;
    println!("find_session:\n{find}\n");
    let by_user = SessionSearch {
        user_id: Some("u1".to_owned()),
        live_at: Some(app.services.sessions.now()),
        ..SessionSearch::default()
    };
    let search = plan(&app, app.store.search_with_metadata_statement(&by_user, 5)).await;
    println!("search by user:\n{search}\n");
    // The page and the count both read the live-sessions index by user.
    assert!(
        search.matches("idx_sessions_user_created").count() >= 2,
        "{search}"
    );
    match backend {
        DbBackend::Sqlite => {
            assert!(
                find.contains("sqlite_autoindex_sessions_1")
                    || find.contains("PRIMARY KEY")
                    || find.contains("USING INDEX"),
                "{find}"
            );
            assert!(!find.contains("SCAN sessions"), "{find}");
            assert!(
                !find.contains("SCAN m") && !find.contains("SCAN session_metadata"),
                "{find}"
            );
            // The count needs nothing outside the index.
            assert!(
                search.contains("COVERING INDEX idx_sessions_user_created"),
                "{search}"
            );
            assert!(!search.contains("SCAN m"), "{search}");
        }
        _ => {
            assert!(find.contains("sessions_pkey"), "{find}");
            assert!(find.contains("session_metadata_pkey"), "{find}");
            assert!(
                search.contains("Index Only Scan using idx_sessions_user_created"),
                "{search}"
            );
            assert!(search.contains("session_metadata_pkey"), "{search}");
        }
    }
}
