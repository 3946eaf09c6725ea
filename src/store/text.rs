//! U+0000 in text. PostgreSQL's `text` cannot hold it and SQLite's can, so
//! the store takes the stricter rule on every backend and both answer
//! alike: no stored value contains it, a lookup by a value that does finds
//! nothing, a search filter that does matches nothing, and a write that
//! carries one is invalid input.

use std::borrow::Cow;

use crate::domain::{Error, Session, SessionSearch};

/// Whether `value` can be stored, or match something stored.
pub(crate) fn storable(value: &str) -> bool {
    !value.contains('\0')
}

/// `Ok` when `value` can be stored; `what` names it in the error.
pub(crate) fn check(what: &'static str, value: &str) -> Result<(), Error> {
    if storable(value) {
        Ok(())
    } else {
        Err(Error::InvalidText { what })
    }
}

fn check_opt(what: &'static str, value: Option<&str>) -> Result<(), Error> {
    value.map_or(Ok(()), |v| check(what, v))
}

/// Every text of a session that is written to its own column. User agent
/// headers are stored as JSON, which escapes U+0000, and metadata values
/// are bytes.
pub(crate) fn check_session(s: &Session) -> Result<(), Error> {
    for key in s.metadata.keys() {
        check("metadata key", key)?;
    }
    check_opt("client ip", s.client.ip.as_deref())?;
    if let Some(ua) = &s.client.user_agent {
        check_opt("user agent fingerprint id", ua.fingerprint_id.as_deref())?;
        check_opt("user agent description", ua.description.as_deref())?;
    }
    check_opt("id store name", s.id_store_name.as_deref())?;
    check("session index", &s.session_index)?;
    if let Some(user) = &s.user {
        check("user id", &user.user_id)?;
        check("login name", &user.login_name)?;
        check("display name", &user.display_name)?;
    }
    Ok(())
}

/// `search` as the store runs it: `None` when it can match nothing stored,
/// else the search without the ids that cannot exist.
pub(crate) fn runnable(search: &SessionSearch) -> Option<Cow<'_, SessionSearch>> {
    let scalars = [
        search.creator_key_id.as_deref(),
        search.creator.as_deref(),
        search.user_agent_fingerprint_id.as_deref(),
        search.user_id.as_deref(),
        search.id_store_name.as_deref(),
        search.client_ip.as_deref(),
    ];
    if scalars.into_iter().flatten().any(|v| !storable(v))
        || search.metadata.iter().any(|(key, _)| !storable(key))
    {
        return None;
    }
    match &search.ids {
        Some(ids) if ids.iter().any(|id| !storable(id)) => {
            let kept: Vec<String> = ids.iter().filter(|id| storable(id)).cloned().collect();
            if kept.is_empty() {
                return None;
            }
            let mut narrowed = search.clone();
            narrowed.ids = Some(kept);
            Some(Cow::Owned(narrowed))
        }
        _ => Some(Cow::Borrowed(search)),
    }
}
