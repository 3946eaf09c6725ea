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
    pub id_store_name: String,
    pub created_at: i64,
    pub changed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
