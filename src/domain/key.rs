use std::collections::BTreeSet;
use std::fmt;

use super::Timestamp;

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    SessionRead,
    SessionWrite,
    SessionDelete,
    UserRead,
    UserWrite,
    KeyWrite,
}

impl Permission {
    pub const ALL: [Permission; 6] = [
        Permission::SessionRead,
        Permission::SessionWrite,
        Permission::SessionDelete,
        Permission::UserRead,
        Permission::UserWrite,
        Permission::KeyWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::SessionRead => "session.read",
            Permission::SessionWrite => "session.write",
            Permission::SessionDelete => "session.delete",
            Permission::UserRead => "user.read",
            Permission::UserWrite => "user.write",
            Permission::KeyWrite => "key.write",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored API key, without its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub permissions: BTreeSet<Permission>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// The authenticated caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub key_id: String,
    pub permissions: BTreeSet<Permission>,
}

impl Principal {
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn require(&self, permission: Permission) -> super::error::Result<()> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(super::Error::PermissionDenied)
        }
    }
}
