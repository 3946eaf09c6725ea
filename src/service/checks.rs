//! User and password checks, shared by create and update.

use crate::domain::session::Password;
use crate::domain::{Checks, Error, Timestamp, User, UserFactor, UserSelector, UserState};
use tracing::Instrument as _;

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
                // Refused without argon2: the answer already says the user
                // exists, and a locked user's password is never checked.
                return Err(Error::UserNotActive);
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

    /// Verifies a password with lockout that holds under concurrency (as
    /// ZITADEL's fix for GHSA-7h8m-vrxx-vr4m): a slot is reserved in the
    /// store before argon2 runs, and only while `failed + pending` is below
    /// the threshold, so at most `threshold` verifications count against a
    /// user before the lock, on every node. Without a slot the answer is
    /// "not active", the same as once locked, whatever the password.
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
            return Err(Error::UserNotActive);
        }
        let threshold = self.settings.lockout_threshold;
        if threshold == 0 {
            return self
                .check_password_without_lockout(&record, password, now)
                .await;
        }
        if !self
            .store
            .reserve_password_check(&record.id, threshold, now)
            .await?
        {
            return Err(Error::UserNotActive);
        }
        // Verify and settle in a task of its own: if the request is dropped
        // mid-verify, the slot is still settled instead of held until it
        // lapses (`RESERVATION_TTL`, for a node that dies mid-check).
        let store = self.store.clone();
        let hasher = self.hasher.clone();
        let password = password.clone();
        let check = async move {
            let matched = match hasher.verify(&password, Some(&record.password_hash)).await {
                Ok(matched) => matched,
                Err(err) => {
                    store.release_password_check(&record.id).await?;
                    return Err(err);
                }
            };
            if !matched {
                store
                    .settle_failed_password(&record.id, threshold, now)
                    .await?;
                // The store does not say whether this failure locked the
                // user; a read after it does (two failures settling at the
                // same moment may both see the lock).
                if let Ok(Some(user)) = store.find_user(&record.id).await
                    && user.state == UserState::Locked
                {
                    crate::telemetry::metrics::lockout();
                }
                return Err(Error::PasswordInvalid);
            }
            if !store.settle_good_password(&record.id).await? {
                // Locked (or gone) while this check ran: never a success.
                return Err(Error::UserNotActive);
            }
            Ok(())
        };
        // In the request's span, so the hash and the queries are its children.
        tokio::spawn(check.in_current_span())
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("password check task failed: {e}")))?
    }

    /// Lockout off: every wrong password is counted, nothing is reserved.
    async fn check_password_without_lockout(
        &self,
        record: &User,
        password: &Password,
        now: Timestamp,
    ) -> Result<(), Error> {
        if !self
            .hasher
            .verify(password, Some(&record.password_hash))
            .await?
        {
            self.store
                .record_failed_password(&record.id, 0, now)
                .await?;
            return Err(Error::PasswordInvalid);
        }
        if !self.store.record_good_password(&record.id).await? {
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
