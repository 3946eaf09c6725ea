use entity::instance;
use sea_orm::{ActiveValue::Set, EntityTrait};

use super::{Store, micros};
use crate::domain::Timestamp;

impl Store {
    /// The instance id, generated on first start and stored.
    pub async fn instance_id(&self, now: Timestamp) -> Result<String, sea_orm::DbErr> {
        if let Some(row) = instance::Entity::find_by_id(1).one(&self.reader).await? {
            return Ok(row.instance_id);
        }
        let row = instance::ActiveModel {
            singleton: Set(1),
            instance_id: Set(crate::ids::new_id(now)),
            created_at: Set(micros(now)),
        };
        // Two nodes starting at once: the second insert is ignored and both
        // read the winner back.
        instance::Entity::insert(row)
            .on_conflict_do_nothing_on([instance::Column::Singleton])
            .exec_without_returning(&self.writer)
            .await?;
        let row = instance::Entity::find_by_id(1)
            .one(&self.reader)
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound("instance".into()))?;
        Ok(row.instance_id)
    }
}
