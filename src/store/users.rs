use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{Store, micros, text, time};
use crate::domain::{Error, NewUser, Timestamp, User, UserState};

fn to_domain(row: user::Model) -> Result<User, Error> {
    let state = UserState::parse(&row.state)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown user state {:?}", row.state)))?;
    Ok(User {
        id: row.id,
        login_name: row.login_name,
        display_name: row.display_name,
        password_hash: row.password_hash,
        state,
        failed_attempts: u32::try_from(row.failed_attempts).unwrap_or(0),
        id_store_name: row.id_store_name,
        created_at: time(row.created_at),
        changed_at: time(row.changed_at),
    })
}

impl Store {
    pub async fn insert_user(
        &self,
        new: &NewUser,
        id: &str,
        id_store_name: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        text::check("login name", new.login_name.as_str())?;
        text::check("display name", &new.display_name)?;
        text::check("id store name", id_store_name)?;
        let row = user::ActiveModel {
            id: Set(id.to_owned()),
            login_name: Set(new.login_name.as_str().to_owned()),
            login_name_lower: Set(new.login_name.folded()),
            display_name: Set(new.display_name.clone()),
            password_hash: Set(new.password_hash.clone()),
            state: Set(UserState::Active.as_str().to_owned()),
            failed_attempts: Set(0),
            pending_attempts: Set(0),
            pending_until: Set(0),
            id_store_name: Set(id_store_name.to_owned()),
            created_at: Set(micros(now)),
            changed_at: Set(micros(now)),
        };
        match user::Entity::insert(row)
            .exec_without_returning(&self.writer)
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match err.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Err(Error::LoginNameTaken),
                _ => Err(err.into()),
            },
        }
    }

    pub async fn find_user(&self, id: &str) -> Result<Option<User>, Error> {
        if !text::storable(id) {
            return Ok(None);
        }
        user::Entity::find_by_id(id.to_owned())
            .one(&self.reader)
            .await?
            .map(to_domain)
            .transpose()
    }

    /// Case-insensitive lookup by login name.
    pub async fn find_user_by_login_name(&self, login_name: &str) -> Result<Option<User>, Error> {
        if !text::storable(login_name) {
            return Ok(None);
        }
        user::Entity::find()
            .filter(user::Column::LoginNameLower.eq(login_name.to_lowercase()))
            .one(&self.reader)
            .await?
            .map(to_domain)
            .transpose()
    }

    pub async fn list_users(&self, offset: u64, limit: u64) -> Result<(u64, Vec<User>), Error> {
        let total = user::Entity::find().count(&self.reader).await?;
        let rows = user::Entity::find()
            .order_by_asc(user::Column::LoginNameLower)
            .offset(offset)
            .limit(limit)
            .all(&self.reader)
            .await?;
        let users = rows.into_iter().map(to_domain).collect::<Result<_, _>>()?;
        Ok((total, users))
    }

    /// Returns whether a user was deleted.
    pub async fn delete_user(&self, id: &str) -> Result<bool, Error> {
        if !text::storable(id) {
            return Ok(false);
        }
        let res = user::Entity::delete_by_id(id.to_owned())
            .exec(&self.writer)
            .await?;
        Ok(res.rows_affected > 0)
    }

    pub async fn set_password_hash(
        &self,
        id: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<bool, Error> {
        if !text::storable(id) {
            return Ok(false);
        }
        let res = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash.to_owned()))
            .col_expr(user::Column::ChangedAt, Expr::value(micros(now)))
            .filter(user::Column::Id.eq(id))
            .exec(&self.writer)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Makes a locked user active again and clears its failure count.
    pub async fn unlock_user(&self, id: &str, now: Timestamp) -> Result<bool, Error> {
        if !text::storable(id) {
            return Ok(false);
        }
        let res = user::Entity::update_many()
            .col_expr(user::Column::State, Expr::value(UserState::Active.as_str()))
            .col_expr(user::Column::FailedAttempts, Expr::value(0))
            .col_expr(user::Column::ChangedAt, Expr::value(micros(now)))
            .filter(user::Column::Id.eq(id))
            .exec(&self.writer)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Locks a user, as the lockout does; `unlock_user` undoes it.
    pub async fn lock_user(&self, id: &str, now: Timestamp) -> Result<bool, Error> {
        if !text::storable(id) {
            return Ok(false);
        }
        let res = user::Entity::update_many()
            .col_expr(user::Column::State, Expr::value(UserState::Locked.as_str()))
            .col_expr(user::Column::ChangedAt, Expr::value(micros(now)))
            .filter(user::Column::Id.eq(id))
            .exec(&self.writer)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Counts one wrong password when lockout is off (`threshold` 0), or
    /// locks the user when the count reaches `threshold`. One statement, so
    /// concurrent failures are all counted.
    pub async fn record_failed_password(
        &self,
        id: &str,
        threshold: u32,
        now: Timestamp,
    ) -> Result<(), Error> {
        let next = Expr::col(user::Column::FailedAttempts).add(1);
        let mut update = user::Entity::update_many()
            .col_expr(user::Column::FailedAttempts, next.clone())
            .col_expr(user::Column::ChangedAt, Expr::value(micros(now)));
        if threshold > 0 {
            update = update.col_expr(
                user::Column::State,
                Expr::case(
                    next.gte(threshold as i32),
                    Expr::value(UserState::Locked.as_str()),
                )
                .finally(Expr::col(user::Column::State))
                .into(),
            );
        }
        update
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::State.eq(UserState::Active.as_str()))
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    /// Clears the failure count after a correct password. Returns false when
    /// the user is no longer active (locked meanwhile, or gone).
    pub async fn record_good_password(&self, id: &str) -> Result<bool, Error> {
        let res = user::Entity::update_many()
            .col_expr(user::Column::FailedAttempts, Expr::value(0))
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::State.eq(UserState::Active.as_str()))
            .exec(&self.writer)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Reserves one password verification for an active user, granted only
    /// while `failed + pending < threshold`; one conditional UPDATE, so
    /// concurrent checks (on any node) never get more than `threshold`
    /// slots between them. Returns whether the slot was granted.
    ///
    /// A pending count lapses [`RESERVATION_TTL`] after the latest grant:
    /// checks settle their slot even when the request is dropped (see the
    /// service), so only a node dying mid-check leaves a slot behind, and
    /// that slot is freed once nobody has been granted one for that long.
    pub async fn reserve_password_check(
        &self,
        id: &str,
        threshold: u32,
        now: Timestamp,
    ) -> Result<bool, Error> {
        let now_us = micros(now);
        let live = Expr::col(user::Column::PendingUntil).gt(now_us);
        let pending = Expr::case(live.clone(), Expr::col(user::Column::PendingAttempts))
            .finally(Expr::value(0));
        let res = user::Entity::update_many()
            .col_expr(
                user::Column::PendingAttempts,
                Expr::case(live, Expr::col(user::Column::PendingAttempts).add(1))
                    .finally(Expr::value(1))
                    .into(),
            )
            .col_expr(
                user::Column::PendingUntil,
                Expr::value(micros(now + RESERVATION_TTL)),
            )
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::State.eq(UserState::Active.as_str()))
            .filter(
                Expr::col(user::Column::FailedAttempts)
                    .add(pending)
                    .lt(i64::from(threshold)),
            )
            .exec(&self.writer)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Turns a reserved check into a counted failure, and locks the user
    /// when failures reach `threshold`.
    pub async fn settle_failed_password(
        &self,
        id: &str,
        threshold: u32,
        now: Timestamp,
    ) -> Result<(), Error> {
        let active = Expr::col(user::Column::State).eq(UserState::Active.as_str());
        let next = Expr::col(user::Column::FailedAttempts).add(1);
        user::Entity::update_many()
            .col_expr(user::Column::PendingAttempts, released())
            .col_expr(
                user::Column::FailedAttempts,
                Expr::case(active.clone(), next.clone())
                    .finally(Expr::col(user::Column::FailedAttempts))
                    .into(),
            )
            .col_expr(
                user::Column::State,
                Expr::case(
                    active.and(next.gte(i64::from(threshold))),
                    Expr::value(UserState::Locked.as_str()),
                )
                .finally(Expr::col(user::Column::State))
                .into(),
            )
            .col_expr(user::Column::ChangedAt, Expr::value(micros(now)))
            .filter(user::Column::Id.eq(id))
            .exec(&self.writer)
            .await?;
        Ok(())
    }

    /// Releases a reserved check after a correct password and clears the
    /// failure count. Returns false when the user is no longer active
    /// (locked meanwhile, or gone): then the password must not count.
    pub async fn settle_good_password(&self, id: &str) -> Result<bool, Error> {
        let res = user::Entity::update_many()
            .col_expr(user::Column::PendingAttempts, released())
            .col_expr(user::Column::FailedAttempts, Expr::value(0))
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::State.eq(UserState::Active.as_str()))
            .exec(&self.writer)
            .await?;
        if res.rows_affected > 0 {
            return Ok(true);
        }
        self.release_password_check(id).await?;
        Ok(false)
    }

    /// Gives a reserved slot back without counting anything (the check did
    /// not run, e.g. the hashing queue was full).
    pub async fn release_password_check(&self, id: &str) -> Result<(), Error> {
        user::Entity::update_many()
            .col_expr(user::Column::PendingAttempts, released())
            .filter(user::Column::Id.eq(id))
            .exec(&self.writer)
            .await?;
        Ok(())
    }
}

/// How long a pending password check holds its slot without settling.
pub const RESERVATION_TTL: chrono::Duration = chrono::Duration::seconds(60);

/// `pending_attempts - 1`, never below zero (a lapsed count may already
/// have been restarted).
fn released() -> Expr {
    Expr::case(
        Expr::col(user::Column::PendingAttempts).gt(0),
        Expr::col(user::Column::PendingAttempts).sub(1),
    )
    .finally(Expr::value(0))
    .into()
}
