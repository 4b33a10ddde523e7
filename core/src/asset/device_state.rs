//! The lock state the asset store obeys, from `device.json` as it is at each operation (tests and
//! users flip it while apps run):
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
use std::path::Path;

use serde_json::Value as Json;

use super::tags::Accessibility;
use super::watched::Watched;
use crate::device::json_file::{json_kind, parse_json_bytes};
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
        let path = device.root().join("device.json");
        match fs::read(&path) {
            Ok(bytes) => DeviceState::parse(Some(&bytes), &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DeviceState::parse(None, &path),
            Err(e) => Err(Error::io(&e, format!("cannot read {}", path.display()))),
        }
    }

    /// The state `device.json` at `path` states with these contents (`None`: no file): a file that
    /// is not a JSON object is 13900020, a flag that is not a boolean 401, both naming the file.
    pub(crate) fn parse(bytes: Option<&[u8]>, path: &Path) -> Result<DeviceState> {
        let d = DeviceState::default();
        let Some(bytes) = bytes else {
            return Ok(d);
        };
        let raw = match parse_json_bytes(bytes, path)? {
            Json::Object(raw) => raw,
            other => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "{} must hold a JSON object, not {}",
                        path.display(),
                        json_kind(&other)
                    ),
                ))
            }
        };
        let flag = |key: &str, default: bool| -> Result<bool> {
            match raw.get(key) {
                None | Some(Json::Null) => Ok(default),
                Some(Json::Bool(b)) => Ok(*b),
                Some(v) => Err(Error::new(
                    ErrorCode::ParameterError,
                    format!(
                        "{}: \"{key}\" must be a boolean, not {}",
                        path.display(),
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

/// Reads a device's state for a long-lived store: `device.json` is parsed again only when it may
/// have changed (see [`Watched`]), so an operation costs at most one `stat` of it.
pub(crate) struct StateReader {
    file: Watched<DeviceState>,
}

impl StateReader {
    pub fn new(device: &Device) -> StateReader {
        StateReader {
            file: Watched::new(device.root().join("device.json")),
        }
    }

    /// The state now.
    pub fn read(&self) -> Result<DeviceState> {
        let path = self.file.path();
        self.file.get(|bytes| DeviceState::parse(bytes, path))
    }
}
