use std::collections::BTreeSet;

use entity::api_key;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::{Store, micros, text, time};
use crate::domain::{ApiKey, Error, Permission, Timestamp};

/// A stored key together with the hash of its secret.
pub struct StoredKey {
    pub key: ApiKey,
    pub secret_hash: String,
}

fn to_domain(row: api_key::Model) -> StoredKey {
    let permissions: BTreeSet<Permission> = row
        .permissions
        .split(',')
        .filter_map(Permission::parse)
        .collect();
    StoredKey {
        key: ApiKey {
            id: row.id,
            name: row.name,
            permissions,
            created_at: time(row.created_at),
            revoked_at: row.revoked_at.map(time),
        },
        secret_hash: row.secret_hash,
    }
}

fn permissions_column(permissions: &BTreeSet<Permission>) -> String {
    permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    pub async fn insert_key(&self, key: &ApiKey, secret_hash: &str) -> Result<(), Error> {
        text::check("key name", &key.name)?;
        let row = api_key::ActiveModel {
            id: Set(key.id.clone()),
            name: Set(key.name.clone()),
            secret_hash: Set(secret_hash.to_owned()),
            permissions: Set(permissions_column(&key.permissions)),
            created_at: Set(micros(key.created_at)),
            revoked_at: Set(None),
        };
        api_key::Entity::insert(row)
            .exec_without_returning(&self.writer)
            .await?;
        Ok(())
    }

    /// Creates or resets a key with a fixed id: used for the bootstrap key,
    /// whose secret comes from configuration.
    pub async fn upsert_key(&self, key: &ApiKey, secret_hash: &str) -> Result<(), Error> {
        text::check("key name", &key.name)?;
        let row = api_key::ActiveModel {
            id: Set(key.id.clone()),
            name: Set(key.name.clone()),
            secret_hash: Set(secret_hash.to_owned()),
            permissions: Set(permissions_column(&key.permissions)),
            created_at: Set(micros(key.created_at)),
            revoked_at: Set(None),
        };
        api_key::Entity::insert(row)
            .on_conflict(
                OnConflict::column(api_key::Column::Id)
                    .update_columns([
                        api_key::Column::SecretHash,
                        api_key::Column::Permissions,
                        api_key::Column::RevokedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn find_key_by_secret_hash(&self, hash: &str) -> Result<Option<StoredKey>, Error> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::SecretHash.eq(hash))
            .one(&self.reader)
            .await?
            .map(to_domain))
    }

    pub async fn find_key(&self, id: &str) -> Result<Option<StoredKey>, Error> {
        if !text::storable(id) {
            return Ok(None);
        }
        Ok(api_key::Entity::find_by_id(id.to_owned())
            .one(&self.reader)
            .await?
            .map(to_domain))
    }

    pub async fn list_keys(&self) -> Result<Vec<ApiKey>, Error> {
        Ok(api_key::Entity::find()
            .order_by_asc(api_key::Column::CreatedAt)
            .order_by_asc(api_key::Column::Id)
            .all(&self.reader)
            .await?
            .into_iter()
            .map(|row| to_domain(row).key)
            .collect())
    }

    pub async fn count_keys(&self) -> Result<u64, Error> {
        Ok(api_key::Entity::find().count(&self.reader).await?)
    }

    /// Returns whether an active key was revoked.
    pub async fn revoke_key(&self, id: &str, now: Timestamp) -> Result<bool, Error> {
        if !text::storable(id) {
            return Ok(false);
        }
        let res = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(micros(now)))
            .filter(api_key::Column::Id.eq(id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&self.writer)
            .await?;
        Ok(res.rows_affected > 0)
    }
}
