//! Fast bulk seeding: sessions written straight into the server's database
//! with multi-row INSERTs through the same entity and connection code the
//! store uses (times as i64 microseconds, token as hex SHA-256), so the rows
//! are indistinguishable from ones the API creates.
//!
//! Every bulk row is a pure function of (run seed, index): its id, token and
//! session index can be recomputed, so the benchmark can pick any of a
//! million sessions without keeping them in memory.

use std::time::Instant;

use anyhow::Context;
use entity::session;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::seed::SeedUser;

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Rows per INSERT: 21 columns × 1000 stays below SQLite's and PostgreSQL's
/// bind-parameter limits.
const BATCH: u64 = 1000;

/// The bulk-seeded sessions of one run.
#[derive(Clone, Debug)]
pub struct BulkPool {
    seed: u64,
    pub count: u64,
    /// Milliseconds of the first row's id and creation time.
    base_ms: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BulkReport {
    pub sessions_before: u64,
    pub inserted: u64,
    pub sessions_after: u64,
    pub secs: f64,
    pub rows_per_sec: f64,
}

impl BulkPool {
    pub fn id(&self, i: u64) -> String {
        let millis = (self.base_ms + i as i64).max(0) as u128 & ((1u128 << 48) - 1);
        let random = (u128::from(mix(self.seed ^ i)) << 16) | u128::from(mix(!i) & 0xffff);
        crockford((millis << 80) | (random & ((1u128 << 80) - 1)))
    }

    pub fn token(&self, i: u64) -> String {
        format!("bulk.{:x}.{i}", self.seed)
    }

    fn row(&self, i: u64, ctx: &RowContext<'_>) -> session::ActiveModel {
        let created = (self.base_ms + i as i64) * 1000;
        let user = &ctx.users[(i % ctx.users.len() as u64) as usize];
        session::ActiveModel {
            id: Set(self.id(i)),
            token_hash: Set(sessiond::ids::hash_secret(&self.token(i))),
            creator_key_id: Set("bench-bulk-loader".to_owned()),
            resource_owner: Set(ctx.instance_id.to_owned()),
            user_id: Set(Some(user.id.clone())),
            user_login_name: Set(Some(user.login_name.clone())),
            user_display_name: Set(Some(user.login_name.clone())),
            user_verified_at: Set(Some(created)),
            password_verified_at: Set(None),
            created_at: Set(created),
            changed_at: Set(created),
            sequence: Set(1),
            expires_at: Set(None),
            idle_timeout_secs: Set(None),
            last_access_at: Set(created),
            client_ip: Set(None),
            user_agent: Set(None),
            user_agent_fingerprint_id: Set(None),
            user_agent_headers: Set(None),
            id_store_name: Set(Some(ctx.id_store_name.to_owned())),
            is_impersonating: Set(false),
            session_index: Set(format!(
                "{:016x}{i:08x}",
                mix(self.seed.rotate_left(17) ^ i)
            )),
            terminated_at: Set(None),
        }
    }
}

struct RowContext<'a> {
    users: &'a [SeedUser],
    instance_id: &'a str,
    id_store_name: &'a str,
}

/// Adds bulk sessions until the database holds `target_total` sessions.
/// Rows are spread over `users`, created before the run started.
pub async fn fill(
    db: &DatabaseConnection,
    users: &[SeedUser],
    target_total: u64,
    seed: u64,
) -> anyhow::Result<(BulkPool, BulkReport)> {
    anyhow::ensure!(!users.is_empty(), "bulk seeding needs at least one user");
    let before = session::Entity::find()
        .count(db)
        .await
        .context("cannot count sessions")?;
    let count = target_total.saturating_sub(before);
    let store = sessiond::store::Store::new(db.clone());
    let now = chrono::Utc::now();
    let instance_id = store
        .instance_id(now)
        .await
        .context("cannot read the instance id")?;
    // Bulk rows are older than everything the API created, 1 ms apart.
    let base_ms = now.timestamp_millis() - count as i64 - 3_600_000;
    let pool = BulkPool {
        seed,
        count,
        base_ms,
    };
    let ctx = RowContext {
        users,
        instance_id: &instance_id,
        id_store_name: "UserIdentityStore",
    };
    let started = Instant::now();
    let mut next = 0;
    while next < count {
        let end = (next + BATCH).min(count);
        let rows: Vec<_> = (next..end).map(|i| pool.row(i, &ctx)).collect();
        let txn = db.begin().await.context("cannot begin a bulk batch")?;
        session::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await
            .with_context(|| format!("bulk insert of rows {next}..{end} failed"))?;
        txn.commit().await.context("cannot commit a bulk batch")?;
        next = end;
        if next % 100_000 == 0 {
            eprintln!(
                "  bulk: {next}/{count} rows, {:.0} rows/s",
                next as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let after = before + count;
    settle(db).await?;
    Ok((
        pool,
        BulkReport {
            sessions_before: before,
            inserted: count,
            sessions_after: after,
            secs,
            rows_per_sec: count as f64 / secs.max(1e-9),
        },
    ))
}

/// After a bulk load: SQLite folds the WAL back into the database file (the
/// server would do the same over time); PostgreSQL refreshes the planner
/// statistics, as autovacuum would shortly after such a load.
async fn settle(db: &DatabaseConnection) -> anyhow::Result<()> {
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
        _ => "ANALYZE sessions",
    };
    db.execute_unprepared(sql)
        .await
        .with_context(|| format!("`{sql}` after the bulk load failed"))?;
    Ok(())
}

/// splitmix64: a cheap, well-spread hash for reproducible pseudo-random ids.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 128 bits as 26 lower-case Crockford base32 characters, like sessiond's ids.
fn crockford(value: u128) -> String {
    (0..26)
        .map(|i| CROCKFORD[((value >> (5 * (25 - i))) & 0x1f) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_ids_are_unique_well_formed_and_time_ordered() {
        let pool = BulkPool {
            seed: 42,
            count: 1000,
            base_ms: 1_700_000_000_000,
        };
        let ids: Vec<String> = (0..1000).map(|i| pool.id(i)).collect();
        assert!(ids.iter().all(|id| id.len() == 26));
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_ne!(pool.token(1), pool.token(2));
    }
}
