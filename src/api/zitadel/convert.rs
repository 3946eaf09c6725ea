//! Translation between ZITADEL's wire types and the domain. Field names,
//! base64 metadata and paging quirks stop here.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use super::error::ZitadelError;
use super::types as wire;
use crate::api::wire::{Rfc3339, U64String};
use crate::domain::session::Password;
use crate::domain::{self, Metadata, Session, SessionSearch, UserSelector};
use crate::service::Details;

pub fn checks(raw: Option<wire::Checks>, request: &str) -> Result<domain::Checks, ZitadelError> {
    let Some(raw) = raw else {
        return Ok(domain::Checks::default());
    };
    let user = match raw.user {
        None => None,
        Some(wire::CheckUser {
            user_id: Some(id),
            login_name: None,
        }) => Some(UserSelector::Id(id)),
        Some(wire::CheckUser {
            user_id: None,
            login_name: Some(name),
        }) => Some(UserSelector::LoginName(name)),
        Some(wire::CheckUser {
            user_id: Some(_),
            login_name: Some(_),
        }) => {
            return Err(ZitadelError::invalid_argument(format!(
                "invalid {request}.Checks.User: only one of userId and loginName may be set"
            )));
        }
        Some(wire::CheckUser {
            user_id: None,
            login_name: None,
        }) => {
            return Err(ZitadelError::invalid_argument(format!(
                "invalid {request}.Checks.User: one of userId or loginName is required"
            )));
        }
    };
    Ok(domain::Checks {
        user,
        password: raw.password.map(|p| Password::new(p.password)),
    })
}

/// Decodes base64 metadata values. Standard base64 is the documented form;
/// URL-safe and unpadded input are accepted as ZITADEL's gateway does.
pub fn metadata(
    raw: Option<BTreeMap<String, String>>,
    request: &str,
) -> Result<Metadata, ZitadelError> {
    let mut out = Metadata::new();
    for (key, value) in raw.unwrap_or_default() {
        if key.is_empty() || key.chars().count() > 200 {
            return Err(ZitadelError::invalid_argument(format!(
                "invalid {request}.Metadata: keys must be 1 to 200 characters"
            )));
        }
        let bytes = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(value.as_bytes()).ok())
            .ok_or_else(|| {
                ZitadelError::invalid_argument(format!(
                    "invalid {request}.Metadata[{key:?}]: value is not valid base64"
                ))
            })?;
        out.insert(key, bytes);
    }
    Ok(out)
}

pub fn details(d: &Details) -> wire::Details {
    wire::Details {
        sequence: (d.sequence > 0).then_some(U64String(d.sequence)),
        change_date: Some(Rfc3339(d.change_date)),
        resource_owner: Some(d.resource_owner.clone()),
    }
}

pub fn session(s: &Session) -> wire::Session {
    let user = s.user.as_ref().map(|u| wire::UserFactor {
        verified_at: Some(Rfc3339(u.verified_at)),
        id: Some(u.user_id.clone()),
        login_name: Some(u.login_name.clone()),
        display_name: Some(u.display_name.clone()),
    });
    let password = s.password_verified_at.map(|at| wire::PasswordFactor {
        verified_at: Some(Rfc3339(at)),
    });
    let factors = (user.is_some() || password.is_some()).then_some(wire::Factors { user, password });
    let metadata = (!s.metadata.is_empty()).then(|| {
        s.metadata
            .iter()
            .map(|(k, v)| (k.clone(), STANDARD.encode(v)))
            .collect()
    });
    wire::Session {
        id: Some(s.id.clone()),
        creation_date: Some(Rfc3339(s.created_at)),
        change_date: Some(Rfc3339(s.changed_at)),
        sequence: Some(U64String(s.sequence)),
        factors,
        metadata,
    }
}

pub fn search(raw: wire::ListSessionsRequest) -> Result<SessionSearch, ZitadelError> {
    let query = raw.query.unwrap_or_default();
    let mut search = SessionSearch {
        offset: query.offset.map_or(0, |o| o.0),
        limit: query.limit.map(u64::from),
        ascending: query.asc.unwrap_or(false),
        ..SessionSearch::default()
    };
    for (i, q) in raw.queries.unwrap_or_default().into_iter().enumerate() {
        let Some(ids) = q.ids_query else {
            return Err(ZitadelError::invalid_argument(format!(
                "invalid ListSessionsRequest.Queries[{i}]: value is required"
            )));
        };
        // Several id lists AND together: only ids in all of them match.
        search.ids = Some(match search.ids.take() {
            None => ids.ids,
            Some(previous) => previous
                .into_iter()
                .filter(|id| ids.ids.contains(id))
                .collect(),
        });
    }
    Ok(search)
}
