use super::Timestamp;

/// A login name: 1–200 characters, kept as given and compared
/// case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginName(String);

impl LoginName {
    pub fn parse(raw: &str) -> Option<LoginName> {
        let len = raw.chars().count();
        if len == 0 || len > 200 {
            return None;
        }
        Some(LoginName(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness and lookups.
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserState {
    Active,
    Locked,
    Inactive,
}

impl UserState {
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Locked => "locked",
            UserState::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<UserState> {
        match s {
            "active" => Some(UserState::Active),
            "locked" => Some(UserState::Locked),
            "inactive" => Some(UserState::Inactive),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub login_name: String,
    pub display_name: String,
    /// argon2id hash in PHC format; never leaves the service.
    pub password_hash: String,
    pub state: UserState,
    pub failed_attempts: u32,
    pub id_store_name: String,
    pub created_at: Timestamp,
    pub changed_at: Timestamp,
}

/// A user to be created, with its password already hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub login_name: LoginName,
    pub display_name: String,
    pub password_hash: String,
}
