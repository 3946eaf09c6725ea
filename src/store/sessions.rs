use entity::{session, session_metadata, user};
use sea_orm::sea_query::{
    Alias, Asterisk, CaseStatement, Expr, ExprTrait, JoinType, OnConflict, Order, Query,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait,
    RelationTrait, Select, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use super::{Store, micros, text, time};
use crate::domain::{
    ClientContext, Error, Metadata, Session, SessionSearch, Timestamp, TimestampComparison,
    TimestampFilter, UserAgent, UserFactor,
};

fn to_domain(row: session::Model, metadata: Metadata) -> Session {
    let user = match (row.user_id, row.user_verified_at) {
        (Some(user_id), Some(verified_at)) => Some(UserFactor {
            user_id,
            login_name: row.user_login_name.unwrap_or_default(),
            display_name: row.user_display_name.unwrap_or_default(),
            verified_at: time(verified_at),
        }),
        _ => None,
    };
    Session {
        id: row.id,
        token_hash: row.token_hash,
        creator_key_id: row.creator_key_id,
        resource_owner: row.resource_owner,
        user,
        password_verified_at: row.password_verified_at.map(time),
        metadata,
        created_at: time(row.created_at),
        changed_at: time(row.changed_at),
        sequence: u64::try_from(row.sequence).unwrap_or(0),
        expires_at: row.expires_at.map(time),
        idle_timeout: row.idle_timeout_secs.map(chrono::Duration::seconds),
        last_access_at: time(row.last_access_at),
        client: ClientContext {
            ip: row.client_ip,
            user_agent: user_agent_from(
                row.user_agent,
                row.user_agent_fingerprint_id,
                row.user_agent_headers,
            ),
        },
        id_store_name: row.id_store_name,
        is_impersonating: row.is_impersonating,
        session_index: row.session_index,
        terminated_at: row.terminated_at.map(time),
    }
}

/// The user agent stored in three columns; none of them set means none.
fn user_agent_from(
    description: Option<String>,
    fingerprint_id: Option<String>,
    headers: Option<String>,
) -> Option<UserAgent> {
    if description.is_none() && fingerprint_id.is_none() && headers.is_none() {
        return None;
    }
    let headers = match headers.as_deref().map(serde_json::from_str) {
        None => Default::default(),
        Some(Ok(headers)) => headers,
        Some(Err(err)) => {
            tracing::warn!(error = %err, "stored user agent headers are not JSON; read as none");
            Default::default()
        }
    };
    Some(UserAgent {
        fingerprint_id,
        description,
        headers,
    })
}

fn to_row(s: &Session) -> session::ActiveModel {
    let ua = s.client.user_agent.as_ref();
    session::ActiveModel {
        id: Set(s.id.clone()),
        token_hash: Set(s.token_hash.clone()),
        creator_key_id: Set(s.creator_key_id.clone()),
        resource_owner: Set(s.resource_owner.clone()),
        user_id: Set(s.user.as_ref().map(|u| u.user_id.clone())),
        user_login_name: Set(s.user.as_ref().map(|u| u.login_name.clone())),
        user_display_name: Set(s.user.as_ref().map(|u| u.display_name.clone())),
        user_verified_at: Set(s.user.as_ref().map(|u| micros(u.verified_at))),
        password_verified_at: Set(s.password_verified_at.map(micros)),
        created_at: Set(micros(s.created_at)),
        changed_at: Set(micros(s.changed_at)),
        sequence: Set(s.sequence as i64),
        expires_at: Set(s.expires_at.map(micros)),
        idle_timeout_secs: Set(s.idle_timeout.map(|d| d.num_seconds())),
        last_access_at: Set(micros(s.last_access_at)),
        client_ip: Set(s.client.ip.clone()),
        user_agent: Set(ua.and_then(|ua| ua.description.clone())),
        user_agent_fingerprint_id: Set(ua.and_then(|ua| ua.fingerprint_id.clone())),
        // Present (if only "{}") whenever the user agent is, so that a user
        // agent with nothing in it reads back as one.
        user_agent_headers: Set(
            ua.map(|ua| serde_json::to_string(&ua.headers).unwrap_or_else(|_| "{}".to_owned()))
        ),
        id_store_name: Set(s.id_store_name.clone()),
        is_impersonating: Set(s.is_impersonating),
        session_index: Set(s.session_index.clone()),
        terminated_at: Set(s.terminated_at.map(micros)),
    }
}

fn metadata_rows(session_id: &str, metadata: &Metadata) -> Vec<session_metadata::ActiveModel> {
    metadata
        .iter()
        .map(|(key, value)| session_metadata::ActiveModel {
            session_id: Set(session_id.to_owned()),
            key: Set(key.clone()),
            value: Set(value.clone()),
        })
        .collect()
}

/// A metadata change as the store applies it.
pub enum MetadataWrite {
    Put(Vec<u8>),
    Delete,
}

impl Store {
    /// Inserts a session and its metadata in one transaction.
    pub async fn insert_session(&self, s: &Session) -> Result<(), Error> {
        text::check_session(s)?;
        if s.metadata.is_empty() {
            // One statement is atomic alone; BEGIN and COMMIT would be two
            // more round trips to the single writer.
            session::Entity::insert(to_row(s))
                .exec_without_returning(&self.writer)
                .await?;
            return Ok(());
        }
        let txn = self.writer.begin().await?;
        insert_in(&txn, s).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Inserts a session for `user_id` under the per-user limit, in one
    /// transaction that holds the user's write lock from the count to the
    /// insert: the user's row `FOR UPDATE` on PostgreSQL (so creates on
    /// every node queue per user), `BEGIN IMMEDIATE` on SQLite (the
    /// database's one write lock). At the limit, `deny` fails with
    /// `SessionLimitReached`; `evict-oldest` terminates the oldest active
    /// sessions to make room.
    pub async fn insert_session_within_limit(
        &self,
        s: &Session,
        user_id: &str,
        limit: UserLimit,
        now: Timestamp,
    ) -> Result<(), Error> {
        text::check_session(s)?;
        let txn = self
            .writer
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            // A user deleted meanwhile has no row to lock; its sessions are
            // beyond any login anyway.
            let _: Option<String> = user::Entity::find_by_id(user_id.to_owned())
                .select_only()
                .column(user::Column::Id)
                .lock_exclusive()
                .into_tuple()
                .one(&txn)
                .await?;
        }
        let active: Vec<String> = active_of_user(user_id, now).into_tuple().all(&txn).await?;
        let max = usize::try_from(limit.max).unwrap_or(usize::MAX);
        if active.len() >= max {
            if !limit.evict_oldest {
                txn.rollback().await?;
                return Err(Error::SessionLimitReached);
            }
            let excess = active.len() + 1 - max;
            terminate_in(&txn, &active[..excess], now).await?;
        }
        insert_in(&txn, s).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The session with its metadata, in one statement: the row joined to
    /// its metadata entries (one result row per entry, or one without).
    pub async fn find_session(&self, id: &str) -> Result<Option<Session>, Error> {
        if !text::storable(id) {
            return Ok(None);
        }
        let rows = self.reader.query_all_raw(self.find_statement(id)).await?;
        Ok(fold_sessions(&rows)?.pop())
    }

    /// The statement [`Store::find_session`] runs, for EXPLAIN.
    pub fn find_statement(&self, id: &str) -> Statement {
        session::Entity::find_by_id(id.to_owned())
            .join(JoinType::LeftJoin, session::Relation::Metadata.def())
            .column_as(session_metadata::Column::Key, META_KEY)
            .column_as(session_metadata::Column::Value, META_VALUE)
            .build(self.reader.get_database_backend())
    }

    /// Terminates one live session if `by` allows, in one round trip on
    /// PostgreSQL (a conditional `UPDATE … RETURNING` with the metadata
    /// delete in the same statement) and one short write transaction on
    /// SQLite. Returns the new sequence and the resource owner, or `None`
    /// when nothing was terminated: no such session, already terminated, or
    /// not allowed (a token or creator that does not match). The caller
    /// tells those apart, if it must, by reading the session.
    pub async fn revoke_session(
        &self,
        id: &str,
        by: &RevokeBy,
        now: Timestamp,
    ) -> Result<Option<(u64, String)>, Error> {
        if !text::storable(id) {
            return Ok(None);
        }
        let mut update = Query::update();
        update
            .table(session::Entity)
            .value(session::Column::TerminatedAt, micros(now))
            .value(session::Column::ChangedAt, micros(now))
            .value(
                session::Column::Sequence,
                Expr::col(session::Column::Sequence).add(1),
            )
            .and_where(Expr::col(session::Column::Id).eq(id))
            .and_where(Expr::col(session::Column::TerminatedAt).is_null());
        match by {
            RevokeBy::TokenHash(hash) => {
                update.and_where(Expr::col(session::Column::TokenHash).eq(hash.as_str()));
            }
            RevokeBy::Creator(key_id) => {
                update.and_where(Expr::col(session::Column::CreatorKeyId).eq(key_id.as_str()));
            }
            RevokeBy::Anyone => {}
        }
        update.returning(Query::returning().columns([
            session::Column::Id,
            session::Column::Sequence,
            session::Column::ResourceOwner,
        ]));
        let backend = self.writer.get_database_backend();
        let update = backend.build(&update);
        let rows = if backend == DbBackend::Postgres {
            // A data-modifying CTE runs whether or not it is read, in the
            // same statement (and transaction) as the UPDATE.
            let sql = format!(
                "WITH t AS ({}), d AS (DELETE FROM session_metadata \
                 WHERE session_id IN (SELECT id FROM t)) \
                 SELECT sequence, resource_owner FROM t",
                update.sql
            );
            let stmt = Statement {
                sql,
                values: update.values,
                db_backend: backend,
            };
            self.writer.query_all_raw(stmt).await?
        } else {
            // `query_all` reads the RETURNING rows to the end, so the
            // statement is finished before the next one (an UPDATE left
            // open would hold the WAL from being checkpointed).
            let txn = self.writer.begin().await?;
            let rows = txn.query_all_raw(update).await?;
            if rows.is_empty() {
                txn.rollback().await?;
                return Ok(None);
            }
            session_metadata::Entity::delete_many()
                .filter(session_metadata::Column::SessionId.eq(id))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            rows
        };
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let sequence: i64 = row.try_get("", "sequence")?;
        let owner: String = row.try_get("", "resource_owner")?;
        Ok(Some((u64::try_from(sequence).unwrap_or(0), owner)))
    }

    /// Writes `next` over the stored session if the stored sequence is still
    /// `expected_sequence`, and applies the metadata writes, all in one
    /// transaction. Returns false when another writer got there first.
    ///
    /// The conditional UPDATE comes first, so on SQLite the transaction takes
    /// the write lock at once instead of upgrading from a read.
    pub async fn replace_session(
        &self,
        expected_sequence: u64,
        next: &Session,
        metadata: &[(String, MetadataWrite)],
    ) -> Result<bool, Error> {
        text::check_session(next)?;
        for (key, _) in metadata {
            text::check("metadata key", key)?;
        }
        let txn = self.writer.begin().await?;
        let mut row = to_row(next);
        row.id = sea_orm::ActiveValue::NotSet;
        let res = session::Entity::update_many()
            .set(row)
            .filter(session::Column::Id.eq(next.id.as_str()))
            .filter(session::Column::Sequence.eq(expected_sequence as i64))
            .filter(session::Column::TerminatedAt.is_null())
            .exec(&txn)
            .await?;
        if res.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(false);
        }
        let mut puts = Vec::new();
        let mut deletes = Vec::new();
        for (key, write) in metadata {
            match write {
                MetadataWrite::Put(value) => puts.push(session_metadata::ActiveModel {
                    session_id: Set(next.id.clone()),
                    key: Set(key.clone()),
                    value: Set(value.clone()),
                }),
                MetadataWrite::Delete => deletes.push(key.clone()),
            }
        }
        if !deletes.is_empty() {
            session_metadata::Entity::delete_many()
                .filter(session_metadata::Column::SessionId.eq(next.id.as_str()))
                .filter(session_metadata::Column::Key.is_in(deletes))
                .exec(&txn)
                .await?;
        }
        if !puts.is_empty() {
            session_metadata::Entity::insert_many(puts)
                .on_conflict(
                    OnConflict::columns([
                        session_metadata::Column::SessionId,
                        session_metadata::Column::Key,
                    ])
                    .update_column(session_metadata::Column::Value)
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(true)
    }

    /// Moves sessions' last access forward to the given times, a hundred
    /// sessions per statement rather than one. A stored time already later
    /// is kept, and ended sessions are left alone. Each statement commits on
    /// its own: the accesses are independent, and releasing the single
    /// SQLite writer between chunks lets waiting updates in.
    pub async fn record_accesses(&self, accesses: &[(String, Timestamp)]) -> Result<u64, Error> {
        let mut moved = 0;
        for chunk in accesses.chunks(100) {
            let mut later = CaseStatement::new();
            let mut moves = Condition::any();
            for (id, at) in chunk {
                let earlier = Expr::col(session::Column::Id)
                    .eq(id.as_str())
                    .and(Expr::col(session::Column::LastAccessAt).lt(micros(*at)));
                later = later.case(earlier.clone(), Expr::value(micros(*at)));
                moves = moves.add(earlier);
            }
            // `IN` finds the rows by key; `moves` leaves out those whose
            // stored time is already later, so the count is of rows moved.
            let res = session::Entity::update_many()
                .col_expr(
                    session::Column::LastAccessAt,
                    later
                        .finally(Expr::col(session::Column::LastAccessAt))
                        .into(),
                )
                .filter(session::Column::Id.is_in(chunk.iter().map(|(id, _)| id.as_str())))
                .filter(moves)
                .filter(session::Column::TerminatedAt.is_null())
                .exec(&self.writer)
                .await?;
            moved += res.rows_affected;
        }
        Ok(moved)
    }

    /// Marks sessions terminated and drops their metadata. Sessions already
    /// terminated are left alone. Returns how many were terminated.
    pub async fn terminate_sessions(&self, ids: &[String], now: Timestamp) -> Result<u64, Error> {
        if ids.is_empty() {
            return Ok(0);
        }
        let txn = self.writer.begin().await?;
        let terminated = terminate_in(&txn, ids, now).await?;
        txn.commit().await?;
        Ok(terminated)
    }

    /// Active sessions of a user, oldest first.
    pub async fn active_sessions_of_user(
        &self,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Vec<String>, Error> {
        if !text::storable(user_id) {
            return Ok(Vec::new());
        }
        Ok(active_of_user(user_id, now)
            .into_tuple()
            .all(&self.reader)
            .await?)
    }

    /// Sessions matching `search`, newest first unless ascending, with the
    /// number of matches before offset and limit. Terminated sessions never
    /// match. One statement: the page, joined to its metadata, with the
    /// count as an uncorrelated subquery (evaluated once). A page past the
    /// end (no rows at an offset) counts again on its own.
    pub async fn search_sessions(
        &self,
        search: &SessionSearch,
        limit: u64,
    ) -> Result<(u64, Vec<Session>), Error> {
        let Some(search) = text::runnable(search) else {
            return Ok((0, Vec::new()));
        };
        let search = search.as_ref();
        let rows = self
            .reader
            .query_all_raw(self.search_with_metadata_statement(search, limit))
            .await?;
        let total = match rows.first() {
            Some(row) => u64::try_from(row.try_get::<i64>("", TOTAL)?).unwrap_or(0),
            None if search.offset == 0 => 0,
            None => filtered(search).count(&self.reader).await?,
        };
        Ok((total, fold_sessions(&rows)?))
    }

    /// The one statement [`Store::search_sessions`] runs, for EXPLAIN.
    pub fn search_with_metadata_statement(&self, search: &SessionSearch, limit: u64) -> Statement {
        let p = Alias::new("p");
        let m = Alias::new("m");
        let order = if search.ascending {
            Order::Asc
        } else {
            Order::Desc
        };
        let count = filtered(search)
            .select_only()
            .expr(Expr::cust("COUNT(*)"))
            .into_query();
        let mut query = Query::select();
        query
            .column((p.clone(), Asterisk))
            .expr_as(
                Expr::SubQuery(None, Box::new(count.into())),
                Alias::new(TOTAL),
            )
            .expr_as(
                Expr::col((m.clone(), session_metadata::Column::Key)),
                Alias::new(META_KEY),
            )
            .expr_as(
                Expr::col((m.clone(), session_metadata::Column::Value)),
                Alias::new(META_VALUE),
            )
            .from_subquery(page(search, limit).into_query(), p.clone())
            .join_as(
                JoinType::LeftJoin,
                session_metadata::Entity,
                m.clone(),
                Expr::col((m, session_metadata::Column::SessionId))
                    .equals((p.clone(), session::Column::Id)),
            )
            .order_by((p.clone(), session::Column::CreatedAt), order.clone())
            .order_by((p, session::Column::Id), order);
        self.reader.get_database_backend().build(&query)
    }

    /// The page query [`Store::search_sessions`] runs for `search`, for
    /// EXPLAIN: the tests check that each filter is served by an index.
    pub fn search_statement(&self, search: &SessionSearch, limit: u64) -> sea_orm::Statement {
        page(search, limit).build(self.reader.get_database_backend())
    }

    /// Deletes sessions terminated or expired before `before`, with their
    /// metadata. Returns how many sessions were removed.
    pub async fn purge_sessions(&self, before: Timestamp) -> Result<u64, Error> {
        let before = micros(before);
        let gone = Condition::any()
            .add(session::Column::TerminatedAt.lt(before))
            .add(session::Column::ExpiresAt.lt(before));
        let txn = self.writer.begin().await?;
        let doomed = Query::select()
            .column(session::Column::Id)
            .from(session::Entity)
            .cond_where(gone.clone())
            .to_owned();
        session_metadata::Entity::delete_many()
            .filter(session_metadata::Column::SessionId.in_subquery(doomed))
            .exec(&txn)
            .await?;
        let res = session::Entity::delete_many()
            .filter(gone)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(res.rows_affected)
    }

    /// Ids of every session matching `search`, without paging.
    pub async fn matching_session_ids(&self, search: &SessionSearch) -> Result<Vec<String>, Error> {
        let Some(search) = text::runnable(search) else {
            return Ok(Vec::new());
        };
        Ok(filtered(&search)
            .select_only()
            .column(session::Column::Id)
            .into_tuple()
            .all(&self.reader)
            .await?)
    }
}

/// Who may revoke a session in [`Store::revoke_session`].
#[derive(Clone, Debug)]
pub enum RevokeBy {
    /// The holder of the token with this hash.
    TokenHash(String),
    /// The key that created the session.
    Creator(String),
    /// Anyone (the caller holds the permission).
    Anyone,
}

/// The columns the joined reads add to the session's own.
const META_KEY: &str = "meta_key";
const META_VALUE: &str = "meta_value";
const TOTAL: &str = "total_matches";

/// Sessions from rows of a session joined to its metadata, in row order;
/// a session's rows are adjacent (the queries order by a unique key).
fn fold_sessions(rows: &[QueryResult]) -> Result<Vec<Session>, Error> {
    let mut out: Vec<(session::Model, Metadata)> = Vec::new();
    for row in rows {
        let id: String = row.try_get("", "id")?;
        if out.last().is_none_or(|(last, _)| last.id != id) {
            out.push((session::Model::from_query_result(row, "")?, Metadata::new()));
        }
        let key: Option<String> = row.try_get("", META_KEY)?;
        let value: Option<Vec<u8>> = row.try_get("", META_VALUE)?;
        if let (Some(key), Some(value), Some((_, metadata))) = (key, value, out.last_mut()) {
            metadata.insert(key, value);
        }
    }
    Ok(out
        .into_iter()
        .map(|(row, metadata)| to_domain(row, metadata))
        .collect())
}

/// The per-user session limit a create respects (`max` > 0).
#[derive(Clone, Copy, Debug)]
pub struct UserLimit {
    pub max: u64,
    /// At the limit: end the oldest sessions (true) or refuse (false).
    pub evict_oldest: bool,
}

async fn insert_in(db: &impl ConnectionTrait, s: &Session) -> Result<(), Error> {
    session::Entity::insert(to_row(s))
        .exec_without_returning(db)
        .await?;
    if !s.metadata.is_empty() {
        session_metadata::Entity::insert_many(metadata_rows(&s.id, &s.metadata))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

async fn terminate_in(
    db: &impl ConnectionTrait,
    ids: &[String],
    now: Timestamp,
) -> Result<u64, Error> {
    let mut terminated = 0;
    // Chunks keep each statement under the backends' parameter limits.
    for chunk in ids.chunks(500) {
        let res = session::Entity::update_many()
            .col_expr(session::Column::TerminatedAt, Expr::value(micros(now)))
            .col_expr(session::Column::ChangedAt, Expr::value(micros(now)))
            .col_expr(
                session::Column::Sequence,
                Expr::col(session::Column::Sequence).add(1),
            )
            .filter(session::Column::Id.is_in(chunk.iter().cloned()))
            .filter(session::Column::TerminatedAt.is_null())
            .exec(db)
            .await?;
        terminated += res.rows_affected;
        session_metadata::Entity::delete_many()
            .filter(session_metadata::Column::SessionId.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?;
    }
    Ok(terminated)
}

/// Ids of the user's active (not terminated, not expired) sessions, oldest
/// first.
fn active_of_user(user_id: &str, now: Timestamp) -> Select<session::Entity> {
    let now = micros(now);
    session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::TerminatedAt.is_null())
        .filter(
            Condition::any()
                .add(session::Column::ExpiresAt.is_null())
                .add(session::Column::ExpiresAt.gt(now)),
        )
        .order_by_asc(session::Column::CreatedAt)
        .order_by_asc(session::Column::Id)
}

/// One page of `search`'s matches, in its order.
fn page(search: &SessionSearch, limit: u64) -> Select<session::Entity> {
    let query = filtered(search);
    let query = if search.ascending {
        query
            .order_by_asc(session::Column::CreatedAt)
            .order_by_asc(session::Column::Id)
    } else {
        query
            .order_by_desc(session::Column::CreatedAt)
            .order_by_desc(session::Column::Id)
    };
    query.offset(search.offset).limit(limit)
}

/// "`col` `filter.method` `filter.at`". With `null_is_later`, a NULL
/// (never) counts as later than any time: ZITADEL's expiration filter.
fn compare(col: session::Column, filter: &TimestampFilter, null_is_later: bool) -> Condition {
    let at = micros(filter.at);
    let (cond, later) = match filter.method {
        TimestampComparison::Equals => (col.eq(at), false),
        TimestampComparison::Greater => (col.gt(at), true),
        TimestampComparison::GreaterOrEquals => (col.gte(at), true),
        TimestampComparison::Less => (col.lt(at), false),
        TimestampComparison::LessOrEquals => (col.lte(at), false),
    };
    if later && null_is_later {
        Condition::any().add(col.is_null()).add(cond)
    } else {
        Condition::all().add(cond)
    }
}

fn filtered(search: &SessionSearch) -> Select<session::Entity> {
    let mut query = session::Entity::find().filter(session::Column::TerminatedAt.is_null());
    if let Some(ids) = &search.ids {
        query = query.filter(session::Column::Id.is_in(ids.iter().cloned()));
    }
    if let Some(creator) = &search.creator_key_id {
        query = query.filter(session::Column::CreatorKeyId.eq(creator.as_str()));
    }
    if let Some(creator) = &search.creator {
        query = query.filter(session::Column::CreatorKeyId.eq(creator.as_str()));
    }
    if let Some(fingerprint) = &search.user_agent_fingerprint_id {
        query = query.filter(session::Column::UserAgentFingerprintId.eq(fingerprint.as_str()));
    }
    for filter in &search.created_at {
        query = query.filter(compare(session::Column::CreatedAt, filter, false));
    }
    for filter in &search.expires_at {
        query = query.filter(compare(session::Column::ExpiresAt, filter, true));
    }
    if let Some(user_id) = &search.user_id {
        query = query.filter(session::Column::UserId.eq(user_id.as_str()));
    }
    if let Some(store) = &search.id_store_name {
        query = query.filter(session::Column::IdStoreName.eq(store.as_str()));
    }
    if let Some(ip) = &search.client_ip {
        query = query.filter(session::Column::ClientIp.eq(ip.as_str()));
    }
    if let Some(flag) = search.is_impersonating {
        query = query.filter(session::Column::IsImpersonating.eq(flag));
    }
    if let Some(at) = search.expires_at_or_before {
        query = query.filter(session::Column::ExpiresAt.lte(micros(at)));
    }
    if let Some(at) = search.last_access_at_or_before {
        query = query.filter(session::Column::LastAccessAt.lte(micros(at)));
    }
    if let Some(at) = search.changed_at_or_before {
        query = query.filter(session::Column::ChangedAt.lte(micros(at)));
    }
    if let Some(at) = search.live_at {
        query = query.filter(
            Condition::any()
                .add(session::Column::ExpiresAt.is_null())
                .add(session::Column::ExpiresAt.gt(micros(at))),
        );
    }
    for (key, value) in &search.metadata {
        let holders = Query::select()
            .column(session_metadata::Column::SessionId)
            .from(session_metadata::Entity)
            .and_where(Expr::col(session_metadata::Column::Key).eq(key.as_str()))
            .and_where(Expr::col(session_metadata::Column::Value).eq(value.clone()))
            .to_owned();
        query = query.filter(session::Column::Id.in_subquery(holders));
    }
    query
}
