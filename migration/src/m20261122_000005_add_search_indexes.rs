use sea_orm_migration::prelude::*;

/// Indexes for OAM's search filters: attribute names, and the time filters.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_session_metadata_key")
                    .table(SessionMetadata::Table)
                    .col(SessionMetadata::Key)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_sessions_expires", Sessions::ExpiresAt),
            ("idx_sessions_last_access", Sessions::LastAccessAt),
            ("idx_sessions_changed", Sessions::ChangedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Sessions::Table)
                        .col(col)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idx_session_metadata_key",
            "idx_sessions_expires",
            "idx_sessions_last_access",
            "idx_sessions_changed",
        ] {
            manager
                .drop_index(Index::drop().name(name).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ExpiresAt,
    LastAccessAt,
    ChangedAt,
}

#[derive(DeriveIden)]
enum SessionMetadata {
    Table,
    Key,
}
