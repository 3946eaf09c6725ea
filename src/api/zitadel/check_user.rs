//! `v2alphaCheckUser` by hand: "exactly one of `userId` and `loginName`",
//! written as a `oneOf` of two complete object schemas, so that generated
//! clients get one typed model per branch and validators apply the same rule
//! the server does.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

use super::types::CheckUser;

const NAME: &str = "v2alphaCheckUser";

fn field(description: &'static str) -> MetaSchemaRef {
    let mut schema = MetaSchema::new("string");
    schema.min_length = Some(1);
    schema.max_length = Some(200);
    schema.description = Some(description);
    MetaSchemaRef::Inline(Box::new(schema))
}

const BY_ID: &str = "v2alphaCheckUserById";
const BY_LOGIN_NAME: &str = "v2alphaCheckUserByLoginName";

/// One branch: an object with exactly the one field, required.
fn branch(
    registry: &mut Registry,
    name: &'static str,
    field_name: &'static str,
    description: &'static str,
) -> MetaSchemaRef {
    registry.create_schema::<CheckUser, _>(name.to_owned(), |_| {
        let mut schema = MetaSchema::new("object");
        schema.title = Some(name.to_owned());
        schema.properties = vec![(field_name, field(description))];
        schema.required = vec![field_name];
        schema
    });
    MetaSchemaRef::Reference(name.to_owned())
}

impl Type for CheckUser {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(NAME.to_owned())
    }

    fn register(registry: &mut Registry) {
        let by_id = branch(registry, BY_ID, "userId", "Id of the user.");
        let by_login_name = branch(
            registry,
            BY_LOGIN_NAME,
            "loginName",
            "Login name of the user, matched case-insensitively.",
        );
        registry.create_schema::<Self, _>(NAME.to_owned(), |_| {
            let mut schema = MetaSchema::ANY;
            schema.title = Some(NAME.to_owned());
            schema.description = Some(
                "Checks the user and sets it on the session. Give exactly one of `userId` and `loginName`.",
            );
            schema.one_of = vec![by_id, by_login_name];
            schema
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

fn text(object: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if (1..=200).contains(&s.chars().count()) => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(format!(
            "{key}: value length must be between 1 and 200 runes, inclusive"
        )),
        Some(other) => Err(format!("{key}: expected a string, found {other}")),
    }
}

impl ParseFromJSON for CheckUser {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let Some(Value::Object(object)) = value else {
            return Err(ParseError::custom("expected an object"));
        };
        let user_id = text(&object, "userId").map_err(ParseError::custom)?;
        let login_name = text(&object, "loginName").map_err(ParseError::custom)?;
        match (user_id, login_name) {
            (Some(id), None) => Ok(CheckUser::UserId(id)),
            (None, Some(name)) => Ok(CheckUser::LoginName(name)),
            (Some(_), Some(_)) => Err(ParseError::custom(
                "only one of userId and loginName may be set",
            )),
            (None, None) => Err(ParseError::custom("one of userId or loginName is required")),
        }
    }
}

impl ToJSON for CheckUser {
    fn to_json(&self) -> Option<Value> {
        Some(match self {
            CheckUser::UserId(id) => serde_json::json!({"userId": id}),
            CheckUser::LoginName(name) => serde_json::json!({"loginName": name}),
        })
    }
}
