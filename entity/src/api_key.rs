use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// Hex SHA-256 of the secret. Secrets are 256-bit random values, so a
    /// fast hash is enough and lets the key be found by its hash.
    #[sea_orm(unique)]
    pub secret_hash: String,
    /// Comma-separated permission names.
    pub permissions: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
