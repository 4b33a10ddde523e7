//! `device.json`: what the device says about itself.

use std::path::Path;

use serde_json::{Map, Value};

use super::json_file::{json_kind, read_json_object};
use crate::error::{Error, ErrorCode, Result};

/// The value OpenHarmony reports when a device property is unknown.
pub const UNKNOWN_PROPERTY: &str = "default";

/// The parsed `device.json` (absent file = all defaults).
#[derive(Clone, Debug, Default)]
pub struct DeviceInfo {
    /// `deviceType`, `"default"` when absent.
    pub device_type: String,
    /// `systemFullName`, `"default"` when absent.
    pub system_full_name: String,
    /// The whole object, for the settings later modules read (conditions, cloud location).
    pub raw: Map<String, Value>,
}

impl DeviceInfo {
    /// Reads `<root>/device.json`.
    pub fn load(path: &Path) -> Result<DeviceInfo> {
        let raw = read_json_object(path)?.unwrap_or_default();
        let text = |key: &str| -> Result<String> {
            match raw.get(key) {
                None | Some(Value::Null) => Ok(UNKNOWN_PROPERTY.to_string()),
                Some(Value::String(s)) if s.is_empty() => Ok(UNKNOWN_PROPERTY.to_string()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "{}: \"{key}\" must be a string, not {}",
                        path.display(),
                        json_kind(other)
                    ),
                )),
            }
        };
        Ok(DeviceInfo {
            device_type: text("deviceType")?,
            system_full_name: text("systemFullName")?,
            raw,
        })
    }
}
