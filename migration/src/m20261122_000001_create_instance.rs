use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Instance::Table)
                    .if_not_exists()
                    .col(integer(Instance::Singleton).primary_key())
                    .col(text(Instance::InstanceId))
                    .col(big_integer(Instance::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Instance::Table).to_owned())
            .await
    }
}

// The column names come from the table's name, so they share its prefix.
#[expect(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Instance {
    Table,
    Singleton,
    InstanceId,
    CreatedAt,
}
