//! The one ZITADEL translation for the RPC transports: `zitadel.session.v2`
//! messages to the domain and back. v2beta and v2alpha reach it through
//! [`super::versions`], which re-encodes their (wire-compatible) messages
//! as v2's.

use std::collections::BTreeMap;

use buffa::MessageField;

/// How generated messages hold their message-typed fields.
type Field<T> = MessageField<T, buffa::Inline<T>>;
use buffa_types::google::protobuf::{Duration as ProtoDuration, Timestamp as ProtoTimestamp};

use super::proto::zitadel::object::v2 as object;
use super::proto::zitadel::session::v2 as pb;
use super::proto::zitadel::v1::TimestampQueryMethod;
use crate::api::zitadel::status::{Code, Status};
use crate::domain::session::Password;
use crate::domain::{
    Checks, ClientContext, Lifetime, Metadata, Session, SessionSearch, Timestamp,
    TimestampComparison, TimestampFilter, UserAgent, UserSelector,
};
use crate::service::Details;

type Result<T> = std::result::Result<T, Status>;

fn invalid(text: impl Into<String>) -> Status {
    Status::plain(Code::InvalidArgument, text)
}

/// A field sessiond does not serve; the documents leave such fields out
/// (see [`super::openapi::UNSUPPORTED_FIELDS`]), and a request with one is
/// refused rather than half-served.
fn unsupported(what: &str) -> Status {
    Status::plain(
        Code::InvalidArgument,
        format!("{what} is not supported by this server"),
    )
}

/// The last instant a protobuf Timestamp can carry.
fn last_timestamp() -> Timestamp {
    chrono::DateTime::<chrono::Utc>::from_timestamp(253_402_300_799, 999_999_999)
        .expect("9999-12-31T23:59:59.999999999Z is a valid time")
}

/// A stored time as a protobuf Timestamp; one beyond year 9999 (only an
/// expiry could be) is shown as the last instant of 9999.
pub fn timestamp(at: Timestamp) -> ProtoTimestamp {
    ProtoTimestamp::from(at.min(last_timestamp()))
}

fn domain_timestamp(at: &ProtoTimestamp, field: &str) -> Result<Timestamp> {
    chrono::DateTime::<chrono::Utc>::try_from(at.clone())
        .map_err(|_| invalid(format!("{field}: not a valid timestamp")))
}

/// A lifetime must be a positive duration, and the expiry it gives, from
/// `now`, must be a time protobuf can carry (up to the end of year 9999).
pub fn lifetime(field: &Field<ProtoDuration>, now: Timestamp) -> Result<Option<Lifetime>> {
    let Some(duration) = field.as_option() else {
        return Ok(None);
    };
    let delta = chrono::TimeDelta::try_from(duration.clone())
        .map_err(|_| invalid("lifetime: not a valid duration"))?;
    let lifetime = Lifetime::new(delta).map_err(|_| invalid("lifetime: must be positive"))?;
    if lifetime.expiry_from(now) > last_timestamp() {
        return Err(invalid(
            "lifetime: the session would expire after 9999-12-31T23:59:59Z",
        ));
    }
    Ok(Some(lifetime))
}

/// The user and password checks; any other check or a challenge is
/// refused rather than ignored, so no session claims a check that did not
/// run.
pub fn checks(field: &Field<pb::Checks>) -> Result<Checks> {
    let Some(checks) = field.as_option() else {
        return Ok(Checks::default());
    };
    let unsupported_checks = [
        (checks.web_auth_n.is_set(), "the webAuthN check"),
        (checks.idp_intent.is_set(), "the idpIntent check"),
        (checks.totp.is_set(), "the totp check"),
        (checks.otp_sms.is_set(), "the otpSms check"),
        (checks.otp_email.is_set(), "the otpEmail check"),
        (checks.recovery_code.is_set(), "the recoveryCode check"),
    ];
    if let Some((_, what)) = unsupported_checks.iter().find(|(set, _)| *set) {
        return Err(unsupported(what));
    }
    use pb::__buffa::oneof::check_user::Search;
    let user = match checks.user.as_option() {
        None => None,
        Some(user) => Some(match &user.search {
            Some(Search::UserId(id)) if !id.is_empty() => UserSelector::Id(id.clone()),
            Some(Search::LoginName(name)) if !name.is_empty() => {
                UserSelector::LoginName(name.clone())
            }
            _ => return Err(invalid("checks.user: give userId or loginName")),
        }),
    };
    let password = checks
        .password
        .as_option()
        .map(|p| Password::new(p.password.clone()));
    Ok(Checks { user, password })
}

pub fn challenges(field: &Field<pb::RequestChallenges>) -> Result<()> {
    match field.as_option() {
        Some(_) => Err(unsupported("challenges")),
        None => Ok(()),
    }
}

pub fn metadata<S: std::hash::BuildHasher>(
    map: &std::collections::HashMap<String, Vec<u8>, S>,
) -> Metadata {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn too_large(what: &'static str, max: usize) -> Status {
    Status::from(&crate::domain::Error::TooLarge {
        what,
        max: max as u64,
    })
}

/// A user agent within the limits: it is stored with the session.
fn check_user_agent(agent: &pb::UserAgent) -> Result<()> {
    use crate::domain::limits::*;
    let chars = |s: &str| s.chars().count();
    if agent
        .ip
        .as_deref()
        .is_some_and(|ip| chars(ip) > MAX_USER_AGENT_HEADER_TEXT)
    {
        return Err(too_large("userAgent.ip", MAX_USER_AGENT_HEADER_TEXT));
    }
    if agent
        .description
        .as_deref()
        .is_some_and(|d| chars(d) > MAX_USER_AGENT_DESCRIPTION)
    {
        return Err(too_large(
            "userAgent.description",
            MAX_USER_AGENT_DESCRIPTION,
        ));
    }
    if agent.header.len() > MAX_USER_AGENT_HEADERS {
        return Err(too_large("userAgent.header", MAX_USER_AGENT_HEADERS));
    }
    for (name, values) in &agent.header {
        if values.values.len() > MAX_USER_AGENT_HEADER_VALUES {
            return Err(too_large(
                "userAgent.header values",
                MAX_USER_AGENT_HEADER_VALUES,
            ));
        }
        if chars(name) > MAX_USER_AGENT_HEADER_TEXT
            || values
                .values
                .iter()
                .any(|v| chars(v) > MAX_USER_AGENT_HEADER_TEXT)
        {
            return Err(too_large(
                "userAgent.header text",
                MAX_USER_AGENT_HEADER_TEXT,
            ));
        }
    }
    Ok(())
}

/// `userAgent.ip` is the session's client address, the one OAM calls
/// `clientIp`.
pub fn client(field: &Field<pb::UserAgent>) -> Result<ClientContext> {
    let Some(agent) = field.as_option() else {
        return Ok(ClientContext::default());
    };
    check_user_agent(agent)?;
    Ok(ClientContext {
        ip: agent.ip.clone(),
        user_agent: Some(UserAgent {
            fingerprint_id: agent.fingerprint_id.clone(),
            description: agent.description.clone(),
            headers: agent
                .header
                .iter()
                .map(|(name, values)| (name.clone(), values.values.clone()))
                .collect::<BTreeMap<_, _>>(),
        }),
    })
}

pub fn details(details: &Details, created_at: Option<Timestamp>) -> object::Details {
    object::Details {
        sequence: details.sequence,
        change_date: MessageField::some(timestamp(details.change_date)),
        resource_owner: details.resource_owner.clone(),
        creation_date: created_at.map(timestamp).into(),
        ..Default::default()
    }
}

pub fn session(session: &Session) -> pb::Session {
    let user = session.user.as_ref().map(|user| pb::UserFactor {
        verified_at: MessageField::some(timestamp(user.verified_at)),
        id: user.user_id.clone(),
        login_name: user.login_name.clone(),
        display_name: user.display_name.clone(),
        organization_id: session.resource_owner.clone(),
        ..Default::default()
    });
    let password = session.password_verified_at.map(|at| pb::PasswordFactor {
        verified_at: MessageField::some(timestamp(at)),
        ..Default::default()
    });
    let factors = (user.is_some() || password.is_some()).then(|| pb::Factors {
        user: user.into(),
        password: password.into(),
        ..Default::default()
    });
    pb::Session {
        id: session.id.clone(),
        creation_date: MessageField::some(timestamp(session.created_at)),
        change_date: MessageField::some(timestamp(session.changed_at)),
        sequence: session.sequence,
        factors: factors.into(),
        metadata: session
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        user_agent: user_agent(&session.client).into(),
        expiration_date: session.expires_at.map(timestamp).into(),
        ..Default::default()
    }
}

fn user_agent(client: &ClientContext) -> Option<pb::UserAgent> {
    let agent = client.user_agent.clone().unwrap_or_default();
    if client.ip.is_none() && client.user_agent.is_none() {
        return None;
    }
    Some(pb::UserAgent {
        fingerprint_id: agent.fingerprint_id,
        ip: client.ip.clone(),
        description: agent.description,
        header: agent
            .headers
            .into_iter()
            .map(|(name, values)| {
                (
                    name,
                    pb::user_agent::HeaderValues {
                        values,
                        ..Default::default()
                    },
                )
            })
            .collect(),
        ..Default::default()
    })
}

fn comparison(method: TimestampQueryMethod) -> TimestampComparison {
    match method {
        TimestampQueryMethod::TIMESTAMP_QUERY_METHOD_EQUALS => TimestampComparison::Equals,
        TimestampQueryMethod::TIMESTAMP_QUERY_METHOD_GREATER => TimestampComparison::Greater,
        TimestampQueryMethod::TIMESTAMP_QUERY_METHOD_GREATER_OR_EQUALS => {
            TimestampComparison::GreaterOrEquals
        }
        TimestampQueryMethod::TIMESTAMP_QUERY_METHOD_LESS => TimestampComparison::Less,
        TimestampQueryMethod::TIMESTAMP_QUERY_METHOD_LESS_OR_EQUALS => {
            TimestampComparison::LessOrEquals
        }
    }
}

fn timestamp_filter(
    at: &Field<ProtoTimestamp>,
    method: &buffa::EnumValue<TimestampQueryMethod>,
    field: &str,
) -> Result<TimestampFilter> {
    let at = at
        .as_option()
        .ok_or_else(|| invalid(format!("{field}: a timestamp is required")))?;
    let method = method
        .as_known()
        .ok_or_else(|| invalid(format!("{field}: unknown method")))?;
    Ok(TimestampFilter {
        method: comparison(method),
        at: domain_timestamp(at, field)?,
    })
}

/// The caller's own user agent, for a `userAgentQuery` without a
/// fingerprint. API keys carry none, so such a query matches the sessions
/// created without one.
const CALLER_FINGERPRINT: &str = "";

pub fn search(request: &pb::ListSessionsRequest, caller_key_id: &str) -> Result<SessionSearch> {
    use pb::__buffa::oneof::search_query::Query;
    let mut search = SessionSearch::default();
    if let Some(query) = request.query.as_option() {
        // SQL offsets are signed 64-bit.
        if query.offset > i64::MAX as u64 {
            return Err(too_large("query.offset", i64::MAX as usize));
        }
        search.offset = query.offset;
        search.limit = (query.limit > 0).then_some(u64::from(query.limit));
        search.ascending = query.asc;
    }
    match request.sorting_column.as_known() {
        Some(
            pb::SessionFieldName::SESSION_FIELD_NAME_UNSPECIFIED
            | pb::SessionFieldName::SESSION_FIELD_NAME_CREATION_DATE,
        ) => {}
        None => return Err(invalid("sortingColumn: unknown field")),
    }
    for query in &request.queries {
        match &query.query {
            Some(Query::IdsQuery(ids)) => {
                if ids.ids.len() > crate::domain::limits::MAX_IDS_PER_QUERY {
                    return Err(too_large(
                        "idsQuery.ids",
                        crate::domain::limits::MAX_IDS_PER_QUERY,
                    ));
                }
                let mut all = search.ids.take().unwrap_or_default();
                all.extend(ids.ids.iter().cloned());
                search.ids = Some(all);
            }
            Some(Query::UserIdQuery(user)) => search.user_id = Some(user.id.clone()),
            Some(Query::CreationDateQuery(q)) => search.created_at.push(timestamp_filter(
                &q.creation_date,
                &q.method,
                "creationDateQuery",
            )?),
            Some(Query::ExpirationDateQuery(q)) => search.expires_at.push(timestamp_filter(
                &q.expiration_date,
                &q.method,
                "expirationDateQuery",
            )?),
            Some(Query::CreatorQuery(q)) => {
                search.creator = Some(q.id.clone().unwrap_or_else(|| caller_key_id.to_owned()));
            }
            Some(Query::UserAgentQuery(q)) => {
                search.user_agent_fingerprint_id = Some(
                    q.fingerprint_id
                        .clone()
                        .unwrap_or_else(|| CALLER_FINGERPRINT.to_owned()),
                );
            }
            None => return Err(invalid("queries: an empty query")),
        }
    }
    Ok(search)
}

pub fn list_details(total: u64, sessions: &[Session], now: Timestamp) -> object::ListDetails {
    object::ListDetails {
        total_result: total,
        processed_sequence: sessions.iter().map(|s| s.sequence).max().unwrap_or(0),
        timestamp: MessageField::some(timestamp(now)),
        ..Default::default()
    }
}
