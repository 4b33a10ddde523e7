//! The lock state the asset store obeys, read from `device.json` at each operation (tests and users
//! flip it while apps run):
//!
//! ```json
//! { "lockScreenPasswordSet": true, "screenLocked": false, "unlockedSinceBoot": true }
//! ```
//!
//! - `lockScreenPasswordSet` (default `false`): the user has a lock-screen password (PIN). Without
//!   one, DEVICE_FIRST_UNLOCKED and DEVICE_UNLOCKED behave like DEVICE_POWERED_ON, REQUIRE_PASSWORD_SET
//!   assets cannot be added or read, and AuthType ANY has no credential to authenticate against.
//! - `screenLocked` (default `false`): the screen is locked now; DEVICE_UNLOCKED secrets are out of
//!   reach (when a password is set).
//! - `unlockedSinceBoot` (default `true`): the user unlocked once since boot; before that only
//!   DEVICE_POWERED_ON secrets are in reach (when a password is set).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value as Json;

use super::tags::Accessibility;
use crate::device::json_file::json_kind;
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// The device's lock state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceState {
    /// A lock-screen password is set.
    pub password_set: bool,
    /// The screen is locked.
    pub screen_locked: bool,
    /// The device was unlocked at least once since boot.
    pub unlocked_since_boot: bool,
}

impl Default for DeviceState {
    fn default() -> Self {
        DeviceState {
            password_set: false,
            screen_locked: false,
            unlocked_since_boot: true,
        }
    }
}

/// `device.json` key: a lock-screen password is set.
pub const KEY_PASSWORD_SET: &str = "lockScreenPasswordSet";
/// `device.json` key: the screen is locked.
pub const KEY_SCREEN_LOCKED: &str = "screenLocked";
/// `device.json` key: unlocked at least once since boot.
pub const KEY_UNLOCKED_SINCE_BOOT: &str = "unlockedSinceBoot";

impl DeviceState {
    /// Reads the state now. A non-boolean value is 401 naming the key.
    pub fn read(device: &Device) -> Result<DeviceState> {
        let info = device.info()?;
        let d = DeviceState::default();
        let flag = |key: &str, default: bool| -> Result<bool> {
            match info.raw.get(key) {
                None | Some(Json::Null) => Ok(default),
                Some(Json::Bool(b)) => Ok(*b),
                Some(v) => Err(Error::new(
                    ErrorCode::ParameterError,
                    format!(
                        "{}: \"{key}\" must be a boolean, not {}",
                        device.root().join("device.json").display(),
                        json_kind(v)
                    ),
                )),
            }
        };
        Ok(DeviceState {
            password_set: flag(KEY_PASSWORD_SET, d.password_set)?,
            screen_locked: flag(KEY_SCREEN_LOCKED, d.screen_locked)?,
            unlocked_since_boot: flag(KEY_UNLOCKED_SINCE_BOOT, d.unlocked_since_boot)?,
        })
    }

    /// Whether a key of this class can be used now: Ok, or 24000005 saying why not.
    pub fn check_access(
        &self,
        accessibility: Accessibility,
        require_password_set: bool,
        auth_any: bool,
    ) -> Result<()> {
        let mismatch = |why: &str| Err(Error::new(ErrorCode::AssetStatusMismatch, why.to_string()));
        if (require_password_set || auth_any) && !self.password_set {
            return mismatch(if auth_any {
                "user authentication needs a lock-screen password"
            } else {
                "the asset requires a lock-screen password and none is set"
            });
        }
        if !self.password_set {
            return Ok(()); // without a password every class behaves like DEVICE_POWERED_ON
        }
        match accessibility {
            Accessibility::DevicePoweredOn => Ok(()),
            Accessibility::DeviceFirstUnlocked if !self.unlocked_since_boot => {
                mismatch("the device has not been unlocked since boot")
            }
            Accessibility::DeviceFirstUnlocked => Ok(()),
            Accessibility::DeviceUnlocked if self.screen_locked || !self.unlocked_since_boot => {
                mismatch("the screen is locked")
            }
            Accessibility::DeviceUnlocked => Ok(()),
        }
    }
}

/// Reads a device's state for a long-lived store, skipping the parse while `device.json` provably
/// did not change: the cached state is reused only while the file's identity, size, mtime and
/// ctime are the same as when it was read, and only if by then the file had been untouched for
/// two seconds (file times are coarse, so a newer file might change again within the same tick).
pub(crate) struct StateReader {
    device: Device,
    path: PathBuf,
    cache: Mutex<Option<(Option<FileStamp>, DeviceState)>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl StateReader {
    pub fn new(device: &Device) -> StateReader {
        StateReader {
            device: device.clone(),
            path: device.root().join("device.json"),
            cache: Mutex::new(None),
        }
    }

    /// The state now (see the type's docs for when the file is parsed again).
    pub fn read(&self) -> Result<DeviceState> {
        let stamp = match fs::metadata(&self.path) {
            Ok(m) => Some(FileStamp {
                dev: m.dev(),
                ino: m.ino(),
                size: m.size(),
                mtime: (m.mtime(), m.mtime_nsec()),
                ctime: (m.ctime(), m.ctime_nsec()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(_) => return DeviceState::read(&self.device), // reports the error
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, state)) = cache.as_ref() {
            if *s == stamp {
                return Ok(*state);
            }
        }
        let state = DeviceState::read(&self.device)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let settled = stamp.is_none_or(|s| now - s.mtime.0.max(s.ctime.0) >= 2);
        *cache = settled.then_some((stamp, state));
        Ok(state)
    }
}
