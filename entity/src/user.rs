use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub login_name: String,
    /// Lower-cased login name; unique, so login names are case-insensitive.
    #[sea_orm(unique)]
    pub login_name_lower: String,
    pub display_name: String,
    /// argon2id hash in PHC format.
    pub password_hash: String,
    /// `active`, `locked` or `inactive`.
    pub state: String,
    pub failed_attempts: i32,
    /// Password checks reserved and not yet settled (see `pending_until`).
    pub pending_attempts: i32,
    /// Microseconds since the epoch after which `pending_attempts` lapses.
    pub pending_until: i64,
    pub id_store_name: String,
    pub created_at: i64,
    pub changed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
