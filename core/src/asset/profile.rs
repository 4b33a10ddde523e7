//! What the asset store needs to know about the calling app, from its `bundle.json` (the stand-in
//! for OpenHarmony's signed app configuration):
//!
//! ```json
//! { "assetAccessGroups": ["demo_group_id"], "developerId": "dev123",
//!   "requestPermissions": ["ohos.permission.STORE_PERSISTENT_DATA"] }
//! ```
//!
//! All optional: an app without them (or an owner with no installed app) has no group and may not
//! store persistent assets.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::device::json_file::{json_kind, parse_json_bytes};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// The permission IS_PERSISTENT needs.
pub const STORE_PERSISTENT_DATA: &str = "ohos.permission.STORE_PERSISTENT_DATA";

/// The app's asset-related configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AppProfile {
    /// `assetAccessGroups`.
    pub groups: Vec<Vec<u8>>,
    /// `developerId` (qualifies group names, as OpenHarmony's `<developerId>,<groupId>`).
    pub developer_id: String,
    /// Whether `requestPermissions` holds STORE_PERSISTENT_DATA.
    pub may_persist: bool,
}

impl AppProfile {
    /// Where the profile of `bundle` is.
    pub fn path(device: &Device, bundle: &str) -> PathBuf {
        device.apps_dir().join(bundle).join("bundle.json")
    }

    /// The profile `bundle.json` at `path` states with these contents (`None`: no file, so no
    /// groups and no permission). A file that is not a JSON object is 13900020 (as every device
    /// file), a key of the wrong type 24000011, naming the file.
    pub fn parse(bytes: Option<&[u8]>, path: &Path) -> Result<AppProfile> {
        let Some(bytes) = bytes else {
            return Ok(AppProfile::default());
        };
        let obj = match parse_json_bytes(bytes, path)? {
            Json::Object(obj) => obj,
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
        let bad = |key: &str, want: &str| {
            Error::new(
                ErrorCode::AssetBmsError,
                format!("{}: \"{key}\" must be {want}", path.display()),
            )
        };
        let strings = |key: &str| -> Result<Vec<String>> {
            match obj.get(key) {
                None | Some(Json::Null) => Ok(Vec::new()),
                Some(Json::Array(a)) => a
                    .iter()
                    .map(|v| match v {
                        Json::String(s) => Ok(s.clone()),
                        // requestPermissions entries may also be {"name": …} as in module.json5.
                        Json::Object(o) => match o.get("name") {
                            Some(Json::String(s)) => Ok(s.clone()),
                            _ => Err(bad(key, "an array of strings")),
                        },
                        _ => Err(bad(key, "an array of strings")),
                    })
                    .collect(),
                Some(_) => Err(bad(key, "an array of strings")),
            }
        };
        let developer_id = match obj.get("developerId") {
            None | Some(Json::Null) => String::new(),
            Some(Json::String(s)) => s.clone(),
            Some(_) => return Err(bad("developerId", "a string")),
        };
        Ok(AppProfile {
            groups: strings("assetAccessGroups")?
                .into_iter()
                .map(String::into_bytes)
                .collect(),
            developer_id,
            may_persist: strings("requestPermissions")?
                .iter()
                .any(|p| p == STORE_PERSISTENT_DATA),
        })
    }
}
