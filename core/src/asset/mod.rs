//! `@ohos.security.asset`: a secret store whose TRUSTED_DEVICE assets travel with a device clone.
//!
//! Each app (owner, by bundle name) has its own SQLite databases under `<root>/state/asset/db/`;
//! secrets are sealed with AES-256-GCM under per-class keys of a [`KeyStore`], with the critical
//! attributes and the owner in the associated data. Lock state comes from `device.json`
//! ([`DeviceState`]); AuthType ANY assets need `pre_query` → [`authenticate_user`] → `query` with
//! AUTH_CHALLENGE + AUTH_TOKEN → `post_query`. Backup sessions carry the synced assets of an app in
//! a sealed package ([`sync`]); `query_sync_result` reports how the last one went.
//!
//! Error mapping: argument errors are 401 (24000018 for `query_sync_result`); a secret whose row or
//! critical attributes were edited fails authentication with 24000007 (DATA_CORRUPTED: the stored
//! data no longer matches what was sealed), while 24000009 (CRYPTO_ERROR) means the key material
//! itself is unusable (unreadable or world-readable root key, no randomness).

mod auth;
mod changes;
mod crypto;
mod db;
pub mod device_state;
pub mod keystore;
mod profile;
mod shared;
mod store;
pub mod sync;
pub mod tags;
mod validate;
mod value;
mod watched;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_sync;

pub use auth::{DEFAULT_VALIDITY_SECS, MAX_SESSIONS_PER_APP, MAX_SESSIONS_TOTAL};
pub use device_state::DeviceState;
pub use keystore::{KeyId, KeyStore, SoftwareKeyStore};
pub use profile::STORE_PERSISTENT_DATA;
pub use store::{authenticate_user, AssetStore};
pub use sync::{export_for_backup, import_from_restore, SYNC_PACKAGE_URI};
pub use tags::{
    all_tags, tag_name, Accessibility, AuthType, ConflictResolution, OperationType, ReturnType,
    SyncType, Tag, TagType, WrapType,
};
pub use validate::{
    ALIAS_LEN, AUTH_TOKEN_LEN, AUTH_VALIDITY_RANGE, CHALLENGE_LEN, GROUP_ID_LEN, LABEL_LEN,
    RETURN_LIMIT_RANGE, SECRET_LEN, SYNC_TYPE_LIMIT,
};
pub use value::{AssetMap, SyncResult, Value};
