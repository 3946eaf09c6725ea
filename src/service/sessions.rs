//! Session lifecycle: create, read, update, search, terminate.

use std::sync::Arc;

use super::Settings;
use super::access::AccessRecorder;
use crate::clock::Clock;
use crate::config::SessionLimitPolicy;
use crate::domain::{
    Checks, Error, Lifetime, MAX_FINGERPRINT_ID_LENGTH, MetadataChanges, NewSession, Permission,
    Principal, Session, SessionApi, SessionSearch, SessionUpdate, Timestamp,
};
use crate::ids;
use crate::password::PasswordHasher;
use crate::store::Store;
use crate::store::sessions::{MetadataWrite, RevokeBy, UserLimit};
use crate::telemetry::metrics;

pub struct Sessions {
    pub(super) store: Store,
    pub(super) hasher: Arc<PasswordHasher>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) settings: Arc<Settings>,
    accesses: Arc<AccessRecorder>,
    instance_id: String,
}

/// What a write reports back: ZITADEL's `details`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Details {
    pub sequence: u64,
    pub change_date: Timestamp,
    pub resource_owner: String,
}

pub struct Created {
    pub session: Session,
    /// The session token, shown only here; the store keeps its hash.
    pub token: String,
}

pub struct Updated {
    pub session: Session,
    pub token: String,
}

impl Sessions {
    pub(super) fn new(
        store: Store,
        hasher: Arc<PasswordHasher>,
        clock: Arc<dyn Clock>,
        settings: Arc<Settings>,
        accesses: Arc<AccessRecorder>,
        instance_id: String,
    ) -> Sessions {
        Sessions {
            store,
            hasher,
            clock,
            settings,
            accesses,
            instance_id,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn details(&self, session: &Session) -> Details {
        Details {
            sequence: session.sequence,
            change_date: session.changed_at,
            resource_owner: session.resource_owner.clone(),
        }
    }

    pub async fn create(&self, caller: &Principal, new: NewSession) -> Result<Created, Error> {
        self.create_with(caller, new, None).await
    }

    /// Create with ZITADEL's (v2beta/v2) `lifetime`: when given, the session
    /// expires at "now + lifetime", whatever the default or
    /// `requested_expiry` would say.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(key.id = %caller.key_id))]
    pub async fn create_with(
        &self,
        caller: &Principal,
        new: NewSession,
        lifetime: Option<Lifetime>,
    ) -> Result<Created, Error> {
        caller.require(Permission::SessionWrite)?;
        if let Some(fingerprint) = new
            .client
            .user_agent
            .as_ref()
            .and_then(|ua| ua.fingerprint_id.as_ref())
            && fingerprint.chars().count() > MAX_FINGERPRINT_ID_LENGTH
        {
            return Err(Error::TooLarge {
                what: "userAgent.fingerprintId",
                max: MAX_FINGERPRINT_ID_LENGTH as u64,
            });
        }
        if let Some(store) = &new.requested_id_store
            && store != &self.settings.id_store_name
        {
            return Err(Error::UnknownIdStore);
        }
        let mut metadata = new.metadata;
        metadata.retain(|_, v| !v.is_empty());
        // Limits first: a rejected create runs no check and writes nothing.
        self.settings.limits.check_metadata(&metadata)?;
        let now = self.clock.now();
        let outcome = self.run_checks(None, &new.checks, now).await?;

        let origin = match new.origin {
            crate::domain::SessionOrigin::Zitadel => "zitadel",
            crate::domain::SessionOrigin::Oam => "oam",
        };
        let default_expiry = self.settings.lifetime(new.origin).map(|d| now + d);
        let expires_at = match (lifetime, default_expiry, new.requested_expiry) {
            (Some(lifetime), _, _) => Some(lifetime.expiry_from(now)),
            (None, _, Some(requested)) if requested > now => Some(requested),
            (None, default, _) => default,
        };
        let token = ids::new_secret();
        let session = Session {
            id: ids::new_id(now),
            token_hash: ids::hash_secret(&token),
            creator_key_id: caller.key_id.clone(),
            resource_owner: self.instance_id.clone(),
            user: outcome.user,
            password_verified_at: outcome.password_verified_at,
            metadata,
            created_at: now,
            changed_at: now,
            sequence: 1,
            expires_at,
            idle_timeout: self.settings.idle_timeout(new.origin),
            last_access_at: now,
            client: new.client,
            id_store_name: Some(self.settings.id_store_name.clone()),
            is_impersonating: new.is_impersonating,
            session_index: ids::new_secret(),
            terminated_at: None,
        };
        match (&session.user, self.user_limit()) {
            (Some(user), Some(limit)) => {
                self.store
                    .insert_session_within_limit(&session, &user.user_id, limit, now)
                    .await?
            }
            // No limit (the default): a single insert.
            _ => self.store.insert_session(&session).await?,
        }
        tracing::info!(session.id = %session.id, "session created");
        metrics::session_created(origin);
        Ok(Created { session, token })
    }

    /// The per-user session limit, if one is set. The store applies it in
    /// the transaction that inserts, so parallel creates (on any node)
    /// cannot overshoot it.
    fn user_limit(&self) -> Option<UserLimit> {
        let max = self.settings.max_sessions_per_user;
        (max > 0).then(|| UserLimit {
            max,
            evict_oldest: self.settings.session_limit_policy == SessionLimitPolicy::EvictOldest,
        })
    }

    /// A session as stored, with any access this node has not written yet.
    async fn load(&self, id: &str) -> Result<Option<Session>, Error> {
        let mut session = self.store.find_session(id).await?;
        if let Some(s) = &mut session {
            self.accesses.overlay(s);
        }
        Ok(session)
    }

    /// Records a use of the session's token, and shows it on `session`.
    fn note_access(&self, session: &mut Session, now: Timestamp) {
        self.accesses.record(&session.id, now);
        session.last_access_at = session.last_access_at.max(now);
    }

    async fn load_live(&self, id: &str) -> Result<Session, Error> {
        match self.load(id).await? {
            Some(s) if !s.is_terminated() => Ok(s),
            _ => Err(Error::SessionNotFound),
        }
    }

    /// ZITADEL's read: allowed with the session's token, to the key that
    /// created it, or with `session.read`. A token, when given, must match.
    pub async fn get(
        &self,
        caller: &Principal,
        id: &str,
        token: Option<&str>,
    ) -> Result<Session, Error> {
        let mut session = self.load_live(id).await?;
        match token {
            Some(token) => {
                if !ids::secret_matches(token, &session.token_hash) {
                    return Err(Error::PermissionDenied);
                }
                self.note_access(&mut session, self.clock.now());
            }
            None => {
                if session.creator_key_id != caller.key_id && !caller.has(Permission::SessionRead) {
                    return Err(Error::PermissionDenied);
                }
            }
        }
        Ok(session)
    }

    /// OAM's read: an administrative lookup that needs `session.read`, hides
    /// expired sessions, reports idle ones, and does not count as access.
    pub async fn get_admin(&self, caller: &Principal, id: &str) -> Result<Session, Error> {
        caller.require(Permission::SessionRead)?;
        let session = self.load_live(id).await?;
        let now = self.clock.now();
        if session.is_expired(now) {
            return Err(Error::SessionNotFound);
        }
        if session.is_idle(now) {
            return Err(Error::SessionIdle);
        }
        Ok(session)
    }

    pub async fn update(
        &self,
        caller: &Principal,
        id: &str,
        token: &str,
        checks: Checks,
        metadata: Option<MetadataChanges>,
    ) -> Result<Updated, Error> {
        let change = SessionUpdate {
            checks,
            metadata,
            lifetime: None,
        };
        self.update_with(caller, id, Some(token), change).await
    }

    /// Update with everything a change may hold, including ZITADEL's
    /// (v2beta/v2) `lifetime`, which resets the expiry to "now + lifetime"
    /// and, like any change, issues a new token. An expired (or idle)
    /// session cannot be updated, not even to extend it: `SessionExpired`.
    ///
    /// `token` is the current session token where the API version needs
    /// it (v2alpha); `None` (v2beta, v2) skips that check, and then every
    /// update issues a new token, since the current one is not known.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(session.id = %id))]
    pub async fn update_with(
        &self,
        caller: &Principal,
        id: &str,
        token: Option<&str>,
        change: SessionUpdate,
    ) -> Result<Updated, Error> {
        let SessionUpdate {
            checks,
            metadata,
            lifetime,
        } = change;
        caller.require(Permission::SessionWrite)?;
        let current = match self.load(id).await? {
            Some(s) => s,
            None => return Err(Error::SessionNotFound),
        };
        if current.is_terminated() {
            return Err(Error::SessionTerminated);
        }
        if let Some(token) = token
            && !ids::secret_matches(token, &current.token_hash)
        {
            return Err(Error::SessionTokenInvalid);
        }
        let now = self.clock.now();
        if current.is_expired(now) || current.is_idle(now) {
            return Err(Error::SessionExpired);
        }
        let writes = metadata_writes(&current, metadata.unwrap_or_default());
        // The merged metadata must stay within the limits; checked before
        // the checks run, so a rejected update changes nothing.
        self.settings
            .limits
            .check_metadata(&merged_metadata(&current, &writes))?;
        let outcome = self.run_checks(current.user.as_ref(), &checks, now).await?;

        if let Some(token) = token
            && checks.is_empty()
            && writes.is_empty()
            && lifetime.is_none()
        {
            let mut current = current;
            self.note_access(&mut current, now);
            return Ok(Updated {
                session: current,
                token: token.to_owned(),
            });
        }

        let mut next = current.clone();
        if checks.user.is_some() {
            next.user = outcome.user;
        }
        if outcome.password_verified_at.is_some() {
            next.password_verified_at = outcome.password_verified_at;
        }
        next.metadata = merged_metadata(&current, &writes);
        if let Some(lifetime) = lifetime {
            next.expires_at = Some(lifetime.expiry_from(now));
        }
        let new_token = ids::new_secret();
        next.token_hash = ids::hash_secret(&new_token);
        next.sequence = current.sequence + 1;
        next.changed_at = now;
        next.last_access_at = now;
        if !self
            .store
            .replace_session(current.sequence, &next, &writes)
            .await?
        {
            // A concurrent update rotated the token first.
            return Err(Error::SessionTokenInvalid);
        }
        Ok(Updated {
            session: next,
            token: new_token,
        })
    }

    /// Sessions the caller may see that match `search`: all of them with
    /// `session.read`, otherwise only those its key created.
    pub async fn search(
        &self,
        caller: &Principal,
        mut search: SessionSearch,
    ) -> Result<(u64, Vec<Session>), Error> {
        let limit = match search.limit {
            None | Some(0) => self.settings.search_default_limit,
            Some(limit) if limit > self.settings.search_max_limit => {
                return Err(Error::SearchLimitTooLarge {
                    max: self.settings.search_max_limit,
                });
            }
            Some(limit) => limit,
        };
        if !caller.has(Permission::SessionRead) {
            search.creator_key_id = Some(caller.key_id.clone());
        }
        self.search_store(&search, limit).await
    }

    async fn search_store(
        &self,
        search: &SessionSearch,
        limit: u64,
    ) -> Result<(u64, Vec<Session>), Error> {
        let (total, mut sessions) = self.store.search_sessions(search, limit).await?;
        self.accesses.overlay_all(&mut sessions);
        Ok((total, sessions))
    }

    /// OAM's search: needs `session.read`, hides expired sessions, and caps
    /// the page at the configured maximum.
    pub async fn search_admin(
        &self,
        caller: &Principal,
        mut search: SessionSearch,
    ) -> Result<(u64, Vec<Session>), Error> {
        caller.require(Permission::SessionRead)?;
        search.limit = Some(self.settings.oam_max_results);
        search.offset = 0;
        search.ascending = false;
        search.live_at = Some(self.clock.now());
        self.search_store(&search, self.settings.oam_max_results)
            .await
    }

    /// ZITADEL's v2alpha delete: with the session's token, or with
    /// `session.delete`. Deleting a terminated or unknown session again
    /// succeeds; so does deleting an expired one.
    pub async fn delete(
        &self,
        caller: &Principal,
        id: &str,
        token: Option<&str>,
    ) -> Result<Details, Error> {
        self.delete_with(caller, id, token, SessionApi::V2Alpha)
            .await
    }

    /// ZITADEL's delete under `api`'s rules: v2 also lets the key that
    /// created the session delete it without a token.
    pub async fn delete_with(
        &self,
        caller: &Principal,
        id: &str,
        token: Option<&str>,
        api: SessionApi,
    ) -> Result<Details, Error> {
        // The common case in one conditional write: a live session the
        // caller may end. Anything else (unknown, terminated, a token or key
        // that does not match) falls through to the read that tells them
        // apart.
        let by = match token {
            Some(token) => Some(RevokeBy::TokenHash(ids::hash_secret(token))),
            None if caller.has(Permission::SessionDelete) => Some(RevokeBy::Anyone),
            None if api == SessionApi::V2 => Some(RevokeBy::Creator(caller.key_id.clone())),
            None => None,
        };
        if let Some(by) = by {
            let now = self.clock.now();
            if let Some((sequence, resource_owner)) =
                self.store.revoke_session(id, &by, now).await?
            {
                metrics::sessions_terminated("deleted", 1);
                return Ok(Details {
                    sequence,
                    change_date: now,
                    resource_owner,
                });
            }
        }
        let session = self.store.find_session(id).await?;
        match (token, &session) {
            (Some(token), Some(s)) => {
                if !ids::secret_matches(token, &s.token_hash) {
                    return Err(Error::SessionTokenInvalid);
                }
            }
            (Some(_), None) => return Err(Error::SessionTokenInvalid),
            (None, Some(s)) if api == SessionApi::V2 && s.creator_key_id == caller.key_id => {}
            (None, _) => caller.require(Permission::SessionDelete)?,
        }
        let now = self.clock.now();
        let Some(session) = session else {
            return Ok(Details {
                sequence: 0,
                change_date: now,
                resource_owner: self.instance_id.clone(),
            });
        };
        if session.is_terminated() {
            return Ok(self.details(&session));
        }
        let terminated = self
            .store
            .terminate_sessions(std::slice::from_ref(&session.id), now)
            .await?;
        metrics::sessions_terminated("deleted", terminated);
        Ok(Details {
            sequence: session.sequence + 1,
            change_date: now,
            resource_owner: session.resource_owner,
        })
    }

    /// OAM's delete of one session: needs `session.delete`; unknown,
    /// terminated and expired sessions are not found. Returns the session as
    /// it was.
    pub async fn terminate_admin(&self, caller: &Principal, id: &str) -> Result<Session, Error> {
        caller.require(Permission::SessionDelete)?;
        let session = self.load_live(id).await?;
        let now = self.clock.now();
        if session.is_expired(now) {
            return Err(Error::SessionNotFound);
        }
        let terminated = self
            .store
            .terminate_sessions(std::slice::from_ref(&session.id), now)
            .await?;
        metrics::sessions_terminated("revoked", terminated);
        Ok(session)
    }

    /// OAM's delete by user: terminates every live session of the user (in
    /// `id_store`, if given) and returns the newest of them, up to the
    /// configured maximum.
    pub async fn terminate_user_admin(
        &self,
        caller: &Principal,
        login_name: &str,
        id_store: Option<String>,
    ) -> Result<Vec<Session>, Error> {
        caller.require(Permission::SessionDelete)?;
        let Some(user_id) = self.user_id_for_login(login_name).await? else {
            return Ok(Vec::new());
        };
        let now = self.clock.now();
        let search = SessionSearch {
            user_id: Some(user_id),
            id_store_name: id_store,
            live_at: Some(now),
            ..SessionSearch::default()
        };
        let ids = self.store.matching_session_ids(&search).await?;
        let (_, newest) = self
            .search_store(&search, self.settings.oam_max_results)
            .await?;
        let terminated = self.store.terminate_sessions(&ids, now).await?;
        metrics::sessions_terminated("revoked", terminated);
        Ok(newest)
    }

    /// Removes sessions that ended (terminated or expired) longer than
    /// `retention` ago. Until then a terminated session still answers an
    /// update with "already terminated".
    pub async fn purge_ended(&self, retention: chrono::Duration) -> Result<u64, Error> {
        self.store
            .purge_sessions(self.clock.now() - retention)
            .await
    }

    /// Resolves a login name to a user id for searches by user.
    pub async fn user_id_for_login(&self, login_name: &str) -> Result<Option<String>, Error> {
        Ok(self
            .store
            .find_user_by_login_name(login_name)
            .await?
            .map(|u| u.id))
    }
}

/// A session's metadata after an update's writes.
fn merged_metadata(
    current: &Session,
    writes: &[(String, MetadataWrite)],
) -> crate::domain::Metadata {
    let mut merged = current.metadata.clone();
    for (key, write) in writes {
        match write {
            MetadataWrite::Put(value) => {
                merged.insert(key.clone(), value.clone());
            }
            MetadataWrite::Delete => {
                merged.remove(key);
            }
        }
    }
    merged
}

/// The writes an update's metadata implies: changed values are put, empty
/// values delete existing keys, and anything else is left out, so an update
/// that changes nothing writes nothing.
fn metadata_writes(current: &Session, changes: MetadataChanges) -> Vec<(String, MetadataWrite)> {
    changes
        .into_iter()
        .filter_map(|(key, value)| {
            let existing = current.metadata.get(&key);
            if value.is_empty() {
                existing.map(|_| (key, MetadataWrite::Delete))
            } else if existing == Some(&value) {
                None
            } else {
                Some((key, MetadataWrite::Put(value)))
            }
        })
        .collect()
}
