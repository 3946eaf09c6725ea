use sea_orm_migration::prelude::*;

/// The per-user index again, under the same name, as a partial index of
/// live (not terminated) sessions that also holds the search order's
/// tie-breaker (`id`), `expires_at` and `terminated_at` (always NULL here,
/// but SQLite counts an index as covering only if it holds every column
/// the query names). Every search and the per-user limit
/// filter on `terminated_at IS NULL`, so they can use it; a count of a
/// user's sessions (OAM's `totalResults`), with or without the expiry
/// filter, is then read from the index alone (an index-only scan on
/// PostgreSQL, a covering index on SQLite) instead of visiting every
/// matching row, and terminated sessions stop weighing on it. It holds
/// only sessions with a user (`user_id = ?` implies `user_id IS NOT NULL`
/// to both planners), so a search by anything else cannot pick it.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name, columns now, columns before.
const LIVE: [(&str, &str, &str); 1] = [(
    "idx_sessions_user_created",
    "user_id, created_at, id, expires_at, terminated_at",
    "user_id, created_at",
)];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, cols, _) in LIVE {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON sessions ({cols}) \
                 WHERE terminated_at IS NULL AND user_id IS NOT NULL"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _, cols) in LIVE {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
            db.execute_unprepared(&format!("CREATE INDEX {name} ON sessions ({cols})"))
                .await?;
        }
        Ok(())
    }
}
