use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(text(Sessions::Id).primary_key())
                    .col(text(Sessions::TokenHash))
                    .col(text(Sessions::CreatorKeyId))
                    .col(text(Sessions::ResourceOwner))
                    .col(text_null(Sessions::UserId))
                    .col(text_null(Sessions::UserLoginName))
                    .col(text_null(Sessions::UserDisplayName))
                    .col(big_integer_null(Sessions::UserVerifiedAt))
                    .col(big_integer_null(Sessions::PasswordVerifiedAt))
                    .col(big_integer(Sessions::CreatedAt))
                    .col(big_integer(Sessions::ChangedAt))
                    .col(big_integer(Sessions::Sequence))
                    .col(big_integer_null(Sessions::ExpiresAt))
                    .col(big_integer_null(Sessions::IdleTimeoutSecs))
                    .col(big_integer(Sessions::LastAccessAt))
                    .col(text_null(Sessions::ClientIp))
                    .col(text_null(Sessions::UserAgent))
                    .col(text_null(Sessions::IdStoreName))
                    .col(boolean(Sessions::IsImpersonating))
                    .col(text_uniq(Sessions::SessionIndex))
                    .col(big_integer_null(Sessions::TerminatedAt))
                    .to_owned(),
            )
            .await?;
        // Every search path has an index: newest-first listings overall, per
        // creating key, per user, and lookups by client address.
        for (name, cols) in [
            (
                "idx_sessions_created",
                vec![Sessions::CreatedAt, Sessions::Id],
            ),
            (
                "idx_sessions_creator_created",
                vec![Sessions::CreatorKeyId, Sessions::CreatedAt],
            ),
            (
                "idx_sessions_user_created",
                vec![Sessions::UserId, Sessions::CreatedAt],
            ),
            (
                "idx_sessions_client_ip",
                vec![Sessions::ClientIp, Sessions::CreatedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Sessions::Table).if_not_exists();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SessionMetadata::Table)
                    .if_not_exists()
                    .col(text(SessionMetadata::SessionId))
                    .col(text(SessionMetadata::Key))
                    .col(blob(SessionMetadata::Value))
                    .primary_key(
                        Index::create()
                            .col(SessionMetadata::SessionId)
                            .col(SessionMetadata::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_metadata_session")
                            .from(SessionMetadata::Table, SessionMetadata::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SessionMetadata::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    CreatorKeyId,
    ResourceOwner,
    UserId,
    UserLoginName,
    UserDisplayName,
    UserVerifiedAt,
    PasswordVerifiedAt,
    CreatedAt,
    ChangedAt,
    Sequence,
    ExpiresAt,
    IdleTimeoutSecs,
    LastAccessAt,
    ClientIp,
    UserAgent,
    IdStoreName,
    IsImpersonating,
    SessionIndex,
    TerminatedAt,
}

#[derive(DeriveIden)]
enum SessionMetadata {
    Table,
    SessionId,
    Key,
    Value,
}
