//! What `GET /version` reports: the crate version and the git commit the
//! binary was built from (recorded by `build.rs`).

use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Version {
    pub version: &'static str,
    pub commit: &'static str,
}

pub fn current() -> Version {
    Version {
        version: env!("CARGO_PKG_VERSION"),
        commit: env!("SESSIOND_GIT_COMMIT"),
    }
}
