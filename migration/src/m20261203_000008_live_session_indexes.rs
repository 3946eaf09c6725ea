use sea_orm_migration::prelude::*;

/// The per-user and per-creator indexes again, under the same names, as
/// partial indexes of live (not terminated) sessions that also hold the
/// search order's tie-breaker (`id`) and `expires_at`. Every search and the
/// per-user limit filter on `terminated_at IS NULL`, so they can use them;
/// a count by user (OAM's `totalResults`) or by creator (ZITADEL's
/// `totalResult`), with or without the expiry filter, is then read from the
/// index alone (an index-only scan on PostgreSQL, a covering index on
/// SQLite) instead of visiting every matching row, and terminated sessions
/// stop weighing on both.
#[derive(DeriveMigrationName)]
pub struct Migration;

const LIVE: [(&str, &str); 2] = [
    ("idx_sessions_user_created", "user_id"),
    ("idx_sessions_creator_created", "creator_key_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, lead) in LIVE {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON sessions ({lead}, created_at, id, expires_at) \
                 WHERE terminated_at IS NULL"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, lead) in LIVE {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON sessions ({lead}, created_at)"
            ))
            .await?;
        }
        Ok(())
    }
}
