//! Translation between ZITADEL's wire types and the domain. Field names,
//! base64 metadata and paging quirks stop here.

use std::collections::BTreeMap;

use super::types as wire;
use crate::api::wire::{Base64Bytes, Rfc3339, U64String};
use crate::domain::session::Password;
use crate::domain::{self, Error, Metadata, Session, SessionSearch, UserSelector};
use crate::service::Details;

pub fn checks(raw: Option<wire::Checks>) -> domain::Checks {
    let Some(raw) = raw else {
        return domain::Checks::default();
    };
    domain::Checks {
        user: raw.user.map(|user| match user {
            wire::CheckUser::UserId(id) => UserSelector::Id(id),
            wire::CheckUser::LoginName(name) => UserSelector::LoginName(name),
        }),
        password: raw.password.map(|p| Password::new(p.password)),
    }
}

pub fn metadata(raw: Option<BTreeMap<String, Base64Bytes>>) -> Metadata {
    raw.unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key, value.0))
        .collect()
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
    let factors =
        (user.is_some() || password.is_some()).then_some(wire::Factors { user, password });
    let metadata = (!s.metadata.is_empty()).then(|| {
        s.metadata
            .iter()
            .map(|(k, v)| (k.clone(), Base64Bytes(v.clone())))
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

/// The largest offset the store takes (SQL offsets are signed 64-bit).
const MAX_OFFSET: u64 = i64::MAX as u64;

pub fn search(raw: wire::ListSessionsRequest) -> Result<SessionSearch, Error> {
    let query = raw.query.unwrap_or_default();
    let offset = query.offset.map_or(0, |o| o.0);
    if offset > MAX_OFFSET {
        return Err(Error::TooLarge {
            what: "query.offset",
            max: MAX_OFFSET,
        });
    }
    let mut search = SessionSearch {
        offset,
        limit: query.limit.map(u64::from),
        ascending: query.asc.unwrap_or(false),
        ..SessionSearch::default()
    };
    for q in raw.queries.unwrap_or_default() {
        // Several id lists AND together: only ids in all of them match.
        search.ids = Some(match search.ids.take() {
            None => q.ids_query.ids,
            Some(previous) => previous
                .into_iter()
                .filter(|id| q.ids_query.ids.contains(id))
                .collect(),
        });
    }
    Ok(search)
}
