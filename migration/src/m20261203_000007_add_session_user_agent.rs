use sea_orm_migration::{prelude::*, schema::*};

/// ZITADEL's `userAgent` (v2beta/v2): its fingerprint (searchable) and its
/// headers as JSON text. Its description goes in the existing `user_agent`
/// column, its ip in `client_ip`. The fingerprint index leads with the
/// fingerprint and then the search's order (creation time, id), so a
/// search by fingerprint needs no sort.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for col in [Sessions::UserAgentFingerprintId, Sessions::UserAgentHeaders] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .add_column(text_null(col))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_fingerprint_created")
                    .table(Sessions::Table)
                    .col(Sessions::UserAgentFingerprintId)
                    .col(Sessions::CreatedAt)
                    .col(Sessions::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_sessions_fingerprint_created")
                    .to_owned(),
            )
            .await?;
        for col in [Sessions::UserAgentHeaders, Sessions::UserAgentFingerprintId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    UserAgentFingerprintId,
    UserAgentHeaders,
    CreatedAt,
    Id,
}
