use sea_orm_migration::{prelude::*, schema::*};

/// Password checks in flight per user, for lockout that holds under
/// concurrency: a check reserves a slot before it verifies, and
/// `failed_attempts + pending_attempts` never exceeds the threshold.
/// `pending_until` (microseconds) is when the pending count lapses, so a
/// reservation whose node died mid-check does not hold its slot forever.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(integer(Users::PendingAttempts).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer(Users::PendingUntil).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Users::PendingUntil, Users::PendingAttempts] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    PendingAttempts,
    PendingUntil,
}
