//! `@ohos.file.backup`: capabilities, app profiles, scanning (sessions arrive with later modules).

pub mod capabilities;
pub mod config;
pub mod scan;

pub use capabilities::{
    local_capabilities, parse_remote_capabilities, read_remote_capabilities, write_local_capabilities,
    RemoteBundleInfo, RemoteCapabilities, BACKUP_VERSION,
};
pub use config::BackupConfig;
