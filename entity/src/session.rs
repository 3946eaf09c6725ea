use sea_orm::entity::prelude::*;

/// Times are microseconds since the Unix epoch, UTC, on every backend.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Hex SHA-256 of the current session token.
    pub token_hash: String,
    pub creator_key_id: String,
    pub resource_owner: String,
    pub user_id: Option<String>,
    pub user_login_name: Option<String>,
    pub user_display_name: Option<String>,
    pub user_verified_at: Option<i64>,
    pub password_verified_at: Option<i64>,
    pub created_at: i64,
    pub changed_at: i64,
    pub sequence: i64,
    pub expires_at: Option<i64>,
    pub idle_timeout_secs: Option<i64>,
    pub last_access_at: i64,
    pub client_ip: Option<String>,
    /// ZITADEL's `userAgent.description`.
    pub user_agent: Option<String>,
    /// ZITADEL's `userAgent.fingerprintId`.
    pub user_agent_fingerprint_id: Option<String>,
    /// ZITADEL's `userAgent.header` as a JSON object of string arrays;
    /// `"{}"` for a user agent without headers, NULL for none at all.
    pub user_agent_headers: Option<String>,
    pub id_store_name: Option<String>,
    pub is_impersonating: bool,
    #[sea_orm(unique)]
    pub session_index: String,
    pub terminated_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session_metadata::Entity")]
    Metadata,
}

impl Related<super::session_metadata::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Metadata.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
