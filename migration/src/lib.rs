//! Schema migrations. They run at start-up and through `sessiond migrate`;
//! applied migrations are recorded, so running them again is a no-op.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_instance;
mod m20261122_000002_create_users;
mod m20261122_000003_create_api_keys;
mod m20261122_000004_create_sessions;
mod m20261122_000005_add_search_indexes;
mod m20261201_000006_add_password_reservations;
mod m20261203_000007_add_session_user_agent;
mod m20261203_000008_live_session_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_instance::Migration),
            Box::new(m20261122_000002_create_users::Migration),
            Box::new(m20261122_000003_create_api_keys::Migration),
            Box::new(m20261122_000004_create_sessions::Migration),
            Box::new(m20261122_000005_add_search_indexes::Migration),
            Box::new(m20261201_000006_add_password_reservations::Migration),
            Box::new(m20261203_000007_add_session_user_agent::Migration),
            Box::new(m20261203_000008_live_session_indexes::Migration),
        ]
    }

    /// Creates the table of applied migrations only when it is missing.
    /// sea-orm-migration's own `install` runs `CREATE TABLE IF NOT EXISTS`
    /// before every step of `up`, and PostgreSQL answers each run on an
    /// existing table with a NOTICE (`relation "seaql_migrations" already
    /// exists, skipping`) that sqlx logs: three misleading lines per start.
    async fn install<C>(db: &C) -> Result<(), DbErr>
    where
        C: sea_orm_migration::sea_orm::ConnectionTrait,
    {
        use sea_orm_migration::sea_orm::{DbBackend, Schema, Statement};
        let backend = db.get_database_backend();
        let table = Self::migration_table_name().to_string();
        let exists = match backend {
            // `to_regclass` follows the search path, as the table's
            // unqualified name in every other statement does.
            DbBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "SELECT 1 FROM (SELECT to_regclass($1) AS t) AS r WHERE r.t IS NOT NULL",
                [table.clone().into()],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                [table.clone().into()],
            ),
        };
        if db.query_one_raw(exists).await?.is_some() {
            return Ok(());
        }
        let mut create = Schema::new(backend)
            .create_table_from_entity(sea_orm_migration::seaql_migrations::Entity);
        create.table(Self::migration_table_name());
        // Two nodes starting at once may both find it missing.
        create.if_not_exists();
        db.execute(&create).await?;
        Ok(())
    }
}
