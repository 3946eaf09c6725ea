//! Translation between OAM's wire types and the domain.
//!
//! User attributes are session metadata. A value that is valid UTF-8 is sent
//! as text; any other value is sent as standard base64 with
//! `attrEncoding: "base64"`, so binary metadata written through ZITADEL
//! reads back without loss, and can be written the same way.

use std::collections::BTreeMap;

use super::error::OamError;
use super::types::{AttrEncoding, NameValueAttribute, SessionData, SessionSearchQuery};
use crate::api::wire::{Base64Bytes, Rfc3339};
use crate::domain::{Metadata, Session, SessionSearch};

/// The map key names an attribute; `attrName` is informational on input
/// and always equal to the key on output.
fn attribute_bytes(key: &str, attr: &NameValueAttribute) -> Result<Vec<u8>, OamError> {
    let value = attr.attr_value.as_deref().unwrap_or_default();
    match attr.attr_encoding {
        Some(AttrEncoding::Base64) => Base64Bytes::decode(value).ok_or_else(|| {
            OamError::invalid(format!(
                "userAttributes[{key:?}].attrValue is not valid base64"
            ))
        }),
        Some(AttrEncoding::Text) | None => Ok(value.as_bytes().to_vec()),
    }
}

/// Attributes to metadata. Attributes without a value are not stored.
pub fn attributes_in(
    raw: Option<BTreeMap<String, NameValueAttribute>>,
) -> Result<Metadata, OamError> {
    let mut out = Metadata::new();
    for (key, attr) in raw.unwrap_or_default() {
        let bytes = attribute_bytes(&key, &attr)?;
        out.insert(key, bytes);
    }
    Ok(out)
}

/// Attribute filters for a search: every pair must match exactly. A value
/// marked base64 that does not decode is compared as text, so it matches
/// nothing instead of failing the search.
pub fn attribute_filters(
    raw: Option<BTreeMap<String, NameValueAttribute>>,
) -> Vec<(String, Vec<u8>)> {
    raw.unwrap_or_default()
        .into_iter()
        .map(|(key, attr)| {
            let bytes = attribute_bytes(&key, &attr)
                .unwrap_or_else(|_| attr.attr_value.clone().unwrap_or_default().into_bytes());
            (key, bytes)
        })
        .collect()
}

pub fn attributes_out(metadata: &Metadata) -> BTreeMap<String, NameValueAttribute> {
    metadata
        .iter()
        .map(|(key, value)| {
            let attr = match std::str::from_utf8(value) {
                Ok(text) => NameValueAttribute {
                    attr_name: Some(key.clone()),
                    attr_value: Some(text.to_owned()),
                    attr_encoding: None,
                },
                Err(_) => NameValueAttribute {
                    attr_name: Some(key.clone()),
                    attr_value: Some(Base64Bytes::encode(value)),
                    attr_encoding: Some(AttrEncoding::Base64),
                },
            };
            (key.clone(), attr)
        })
        .collect()
}

pub fn session_data(s: &Session) -> SessionData {
    SessionData {
        client_ip: s.client.ip.clone(),
        create_time: Some(Rfc3339(s.created_at)),
        expiry_time: s.expires_at.map(Rfc3339),
        id_store_name: s.id_store_name.clone(),
        is_impersonating: Some(s.is_impersonating),
        last_access_time: Some(Rfc3339(s.last_access_at)),
        session_id: Some(s.id.clone()),
        session_index: Some(s.session_index.clone()),
        update_time: Some(Rfc3339(s.changed_at)),
        user_attributes: Some(attributes_out(&s.metadata)),
        user_id: s
            .user
            .as_ref()
            .map(|u| u.login_name.clone())
            .unwrap_or_default(),
    }
}

/// The selectors an OAM request names, query parameters first.
#[derive(Debug, Default)]
pub struct Selectors {
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub id_store: Option<String>,
}

impl Selectors {
    pub fn new(
        session_id: Option<String>,
        user_id: Option<String>,
        id_store: Option<String>,
    ) -> Selectors {
        let present = |v: Option<String>| v.filter(|s| !s.is_empty());
        Selectors {
            session_id: present(session_id),
            user_id: present(user_id),
            id_store: present(id_store),
        }
    }
}

/// A search from query parameters and body; a query parameter wins over the
/// same body field. The user is given as a resolved user id (or `None` when
/// no user filter applies).
pub fn search(
    params: Selectors,
    body: SessionSearchQuery,
    user_id: Option<String>,
) -> SessionSearch {
    let session_id = params
        .session_id
        .or(body.session_id.filter(|s| !s.is_empty()));
    SessionSearch {
        ids: session_id.map(|id| vec![id]),
        user_id,
        id_store_name: params.id_store.or(body.id_store_name),
        client_ip: body.client_ip,
        is_impersonating: body.is_impersonating,
        metadata: attribute_filters(body.user_attributes),
        expires_at_or_before: body.expiry_time.map(|t| t.0),
        last_access_at_or_before: body.last_access_time.map(|t| t.0),
        changed_at_or_before: body.update_time.map(|t| t.0),
        ..SessionSearch::default()
    }
}
