//! User and password checks, shared by create and update.

use crate::domain::session::Password;
use crate::domain::{Checks, Error, Timestamp, User, UserFactor, UserSelector, UserState};

use super::Sessions;

/// What the checks of one request established.
pub(super) struct CheckOutcome {
    pub user: Option<UserFactor>,
    pub password_verified_at: Option<Timestamp>,
}

impl Sessions {
    /// Runs the checks against a session whose checked user is `current`.
    /// Nothing is written except the user's failed-attempt counter.
    pub(super) async fn run_checks(
        &self,
        current: Option<&UserFactor>,
        checks: &Checks,
        now: Timestamp,
    ) -> Result<CheckOutcome, Error> {
        let mut loaded: Option<User> = None;
        let mut user = current.cloned();

        if let Some(selector) = &checks.user {
            let found = match selector {
                UserSelector::Id(id) => self.store.find_user(id).await?,
                UserSelector::LoginName(name) => self.store.find_user_by_login_name(name).await?,
            };
            let Some(found) = found else {
                return Err(self
                    .fail_after_dummy_verify(checks, Error::UserNotFound)
                    .await);
            };
            if found.state != UserState::Active {
                return Err(self
                    .fail_after_dummy_verify(checks, Error::UserNotActive)
                    .await);
            }
            if current.is_some_and(|c| c.user_id != found.id) {
                return Err(Error::UserChangeNotPossible);
            }
            user = Some(UserFactor {
                user_id: found.id.clone(),
                login_name: found.login_name.clone(),
                display_name: found.display_name.clone(),
                verified_at: now,
            });
            loaded = Some(found);
        }

        let mut password_verified_at = None;
        if let Some(password) = &checks.password {
            let Some(factor) = &user else {
                return Err(Error::UserIdMissing);
            };
            let record = match loaded {
                Some(record) => Some(record),
                None => self.store.find_user(&factor.user_id).await?,
            };
            self.check_password(record, password, now).await?;
            password_verified_at = Some(now);
        }

        Ok(CheckOutcome {
            user,
            password_verified_at,
        })
    }

    async fn check_password(
        &self,
        record: Option<User>,
        password: &Password,
        now: Timestamp,
    ) -> Result<(), Error> {
        let Some(record) = record else {
            self.hasher.verify(password, None).await?;
            return Err(Error::UserNotFound);
        };
        if record.state != UserState::Active {
            self.hasher.verify(password, None).await?;
            return Err(Error::UserNotActive);
        }
        if !self
            .hasher
            .verify(password, Some(&record.password_hash))
            .await?
        {
            self.store
                .record_failed_password(&record.id, self.settings.lockout_threshold, now)
                .await?;
            return Err(Error::PasswordInvalid);
        }
        if !self.store.record_good_password(&record.id).await? {
            // Locked by concurrent failures while this check ran.
            return Err(Error::UserNotActive);
        }
        Ok(())
    }

    /// A failed user lookup still pays for one argon2 verify when a password
    /// came with it, so timing does not tell whether the user exists.
    async fn fail_after_dummy_verify(&self, checks: &Checks, err: Error) -> Error {
        if let Some(password) = &checks.password
            && let Err(busy) = self.hasher.verify(password, None).await
        {
            return busy;
        }
        err
    }
}
