//! The trust-group key that seals asset sync packages.
//!
//! Devices that may exchange TRUSTED_DEVICE assets share one random 256-bit key, `group.key`, in a
//! trust-group folder outside every device root and outside every backup: `device.json`
//! `"trustGroup"` (absolute, or relative to the device root), by default
//! `${XDG_CONFIG_HOME:-$HOME/.config}/ohfile/trust-group`, i.e. all devices of the same OS user.
//! The folder is 0700 and the key 0600; the first device that exports creates the key; a device
//! that imports never does (no key, or another key, means "not a trusted device").

use std::path::PathBuf;

use serde_json::Value as Json;

use crate::asset::keystore::{load_or_create_key, read_key};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// `device.json` key naming the trust-group folder.
pub const KEY_TRUST_GROUP: &str = "trustGroup";

/// The trust-group folder of `device`.
pub fn trust_group_dir(device: &Device) -> Result<PathBuf> {
    let info = device.info()?;
    match info.raw.get(KEY_TRUST_GROUP) {
        Some(Json::String(s)) if !s.is_empty() => Ok(device.root().join(s)),
        None | Some(Json::Null) => {
            let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
                Some(x) => PathBuf::from(x),
                None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
                    Some(h) => PathBuf::from(h).join(".config"),
                    None => {
                        return Err(Error::new(
                            ErrorCode::AssetFileOperationError,
                            "no trust group: set \"trustGroup\" in device.json (or HOME)",
                        ))
                    }
                },
            };
            Ok(base.join("ohfile/trust-group"))
        }
        Some(_) => Err(Error::new(
            ErrorCode::ParameterError,
            format!(
                "{}: \"{KEY_TRUST_GROUP}\" must be a folder path",
                device.root().join("device.json").display()
            ),
        )),
    }
}

/// The group key, created when absent (the exporting side).
pub fn group_key_for_export(device: &Device) -> Result<[u8; 32]> {
    load_or_create_key(&trust_group_dir(device)?, "group")
}

/// The group key if this device has one (the importing side).
pub fn group_key_for_import(device: &Device) -> Result<Option<[u8; 32]>> {
    read_key(&trust_group_dir(device)?.join("group.key"))
}
