//! Input limits. The constants are the documented ceilings: the contract
//! documents state them as `maxItems`, `maxProperties` and `maxLength`, and
//! the request guard enforces them. Configuration may lower them (see
//! [`Limits`]); the service enforces the configured values, including on
//! the merged metadata of an update.

use super::{Error, Metadata};

/// Filters in one search: ZITADEL `queries`, OAM `userAttributes` filters.
pub const MAX_SEARCH_FILTERS: usize = 20;
/// Ids in one ZITADEL `idsQuery`.
pub const MAX_IDS_PER_QUERY: usize = 1000;
/// Metadata keys (OAM user attributes) on one session.
pub const MAX_METADATA_KEYS: usize = 100;
/// Characters in one metadata key.
pub const MAX_METADATA_KEY_LENGTH: usize = 200;
/// Bytes in one metadata value.
pub const MAX_METADATA_VALUE_BYTES: usize = 4096;
/// Characters in a user agent's `description`.
pub const MAX_USER_AGENT_DESCRIPTION: usize = 1000;
/// Header names in a user agent's `header`.
pub const MAX_USER_AGENT_HEADERS: usize = 50;
/// Values of one user agent header.
pub const MAX_USER_AGENT_HEADER_VALUES: usize = 20;
/// Characters in one user agent header name or value.
pub const MAX_USER_AGENT_HEADER_TEXT: usize = 1000;

/// The longest standard base64 text of a value of
/// [`MAX_METADATA_VALUE_BYTES`].
pub const MAX_METADATA_VALUE_BASE64: usize = MAX_METADATA_VALUE_BYTES.div_ceil(3) * 4;

/// The limits in force, at most the ceilings above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub search_filters: usize,
    pub metadata_keys: usize,
    pub metadata_key_length: usize,
    pub metadata_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            search_filters: MAX_SEARCH_FILTERS,
            metadata_keys: MAX_METADATA_KEYS,
            metadata_key_length: MAX_METADATA_KEY_LENGTH,
            metadata_value_bytes: MAX_METADATA_VALUE_BYTES,
        }
    }
}

impl Limits {
    /// Configured limits; a value above its documented ceiling is refused.
    pub fn new(
        search_filters: usize,
        metadata_keys: usize,
        metadata_key_length: usize,
        metadata_value_bytes: usize,
    ) -> Result<Limits, String> {
        let check = |name: &str, value: usize, ceiling: usize| {
            if value == 0 || value > ceiling {
                Err(format!(
                    "{name} must be between 1 and {ceiling}, not {value}"
                ))
            } else {
                Ok(value)
            }
        };
        Ok(Limits {
            search_filters: check("max_search_filters", search_filters, MAX_SEARCH_FILTERS)?,
            metadata_keys: check("max_metadata_keys", metadata_keys, MAX_METADATA_KEYS)?,
            metadata_key_length: check(
                "max_metadata_key_length",
                metadata_key_length,
                MAX_METADATA_KEY_LENGTH,
            )?,
            metadata_value_bytes: check(
                "max_metadata_value_bytes",
                metadata_value_bytes,
                MAX_METADATA_VALUE_BYTES,
            )?,
        })
    }

    /// Checks the metadata a session would have.
    pub fn check_metadata(&self, metadata: &Metadata) -> Result<(), Error> {
        if metadata.len() > self.metadata_keys {
            return Err(Error::TooLarge {
                what: "the number of metadata keys",
                max: self.metadata_keys as u64,
            });
        }
        for (key, value) in metadata {
            if key.chars().count() > self.metadata_key_length {
                return Err(Error::TooLarge {
                    what: "a metadata key's length",
                    max: self.metadata_key_length as u64,
                });
            }
            if value.len() > self.metadata_value_bytes {
                return Err(Error::TooLarge {
                    what: "a metadata value's size in bytes",
                    max: self.metadata_value_bytes as u64,
                });
            }
        }
        Ok(())
    }

    /// Checks the number of filters of one search.
    pub fn check_filters(&self, filters: usize) -> Result<(), Error> {
        if filters > self.search_filters {
            return Err(Error::TooLarge {
                what: "the number of search filters",
                max: self.search_filters as u64,
            });
        }
        Ok(())
    }
}
