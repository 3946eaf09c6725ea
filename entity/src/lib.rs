//! sea-orm entities for sessiond's tables. Derives only: the store converts
//! these models into domain types at its boundary.

pub mod api_key;
pub mod instance;
pub mod session;
pub mod session_metadata;
pub mod user;

pub mod prelude {
    pub use super::api_key::Entity as ApiKey;
    pub use super::instance::Entity as Instance;
    pub use super::session::Entity as Session;
    pub use super::session_metadata::Entity as SessionMetadata;
    pub use super::user::Entity as User;
}
