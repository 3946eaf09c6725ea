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
        ]
    }
}
