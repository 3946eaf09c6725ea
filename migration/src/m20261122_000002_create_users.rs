use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(text(Users::Id).primary_key())
                    .col(text(Users::LoginName))
                    .col(text_uniq(Users::LoginNameLower))
                    .col(text(Users::DisplayName))
                    .col(text(Users::PasswordHash))
                    .col(text(Users::State))
                    .col(integer(Users::FailedAttempts))
                    .col(text(Users::IdStoreName))
                    .col(big_integer(Users::CreatedAt))
                    .col(big_integer(Users::ChangedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    LoginName,
    LoginNameLower,
    DisplayName,
    PasswordHash,
    State,
    FailedAttempts,
    IdStoreName,
    CreatedAt,
    ChangedAt,
}
