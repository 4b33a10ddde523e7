//! Where a device's cloud is. `device.json` `"cloud"` names the folder (relative to the device
//! root when relative), so several device roots can name one folder and share one cloud; without
//! it the cloud is `<root>/cloud/`. `"cloudQuotaBytes"` caps it.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::backend::CloudBackend;
use super::local_store::LocalStore;
use crate::device::json_file::json_kind;
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// The `device.json` key naming the cloud folder.
pub const CLOUD_KEY: &str = "cloud";
/// The `device.json` key giving the cloud quota in bytes.
pub const QUOTA_KEY: &str = "cloudQuotaBytes";
/// The `device.json` key turning the embedded store's fsync off (default on).
pub const FSYNC_KEY: &str = "cloudFsync";

/// The device's cloud folder, created if missing and resolved to an absolute path.
pub fn cloud_root(device: &Device) -> Result<PathBuf> {
    let info = device.info()?;
    let dir = match info.raw.get(CLOUD_KEY) {
        None | Some(Value::Null) => device.root().join("cloud"),
        Some(Value::String(s)) if s.is_empty() => device.root().join("cloud"),
        // A string is a folder; an object is reserved for remote (S3) settings later.
        Some(Value::String(s)) => device.root().join(s), // join keeps an absolute `s` as is
        Some(other) => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{}: \"{CLOUD_KEY}\" must be a folder path (string), not {}",
                    device.root().join("device.json").display(),
                    json_kind(other)
                ),
            ))
        }
    };
    fs::create_dir_all(&dir).map_err(|e| {
        Error::io(
            &e,
            format!("cannot create the cloud folder {}", dir.display()),
        )
    })?;
    dir.canonicalize().map_err(|e| {
        Error::io(
            &e,
            format!("cannot resolve the cloud folder {}", dir.display()),
        )
    })
}

/// The device's cloud quota in bytes (`None`: unlimited). Read each time: tests and users change
/// it while a device is open to make the cloud fill up.
pub fn cloud_quota(device: &Device) -> Result<Option<u64>> {
    let info = device.info()?;
    match info.raw.get(QUOTA_KEY) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(other) => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{}: \"{QUOTA_KEY}\" must be a non-negative integer, not {}",
                device.root().join("device.json").display(),
                match other {
                    Value::Number(n) => n.to_string(),
                    v => json_kind(v).to_string(),
                }
            ),
        )),
    }
}

/// The device's cloud backend: today always the embedded [`LocalStore`] at [`cloud_root`] with
/// the device's quota. The one place a remote backend will be chosen.
pub fn open_cloud(device: &Device) -> Result<Arc<dyn CloudBackend>> {
    let store = LocalStore::for_device(device)?;
    // `"cloudFsync": false` trades durability for speed (benchmarks on tmpfs, throwaway tests).
    match device.info()?.raw.get(FSYNC_KEY) {
        None | Some(Value::Null) | Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => store.set_fsync(false),
        Some(other) => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{}: \"{FSYNC_KEY}\" must be a boolean, not {}",
                    device.root().join("device.json").display(),
                    json_kind(other)
                ),
            ))
        }
    }
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device_with(json: &str) -> (tempfile::TempDir, Device) {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("dev")).unwrap();
        fs::write(t.path().join("dev/device.json"), json).unwrap();
        let d = Device::open(Some(&t.path().join("dev"))).unwrap();
        (t, d)
    }

    #[test]
    fn default_is_root_cloud_and_is_created() {
        let (_t, d) = device_with("{}");
        let root = cloud_root(&d).unwrap();
        assert_eq!(root, d.root().join("cloud"));
        assert!(root.is_dir());
        assert_eq!(cloud_quota(&d).unwrap(), None);
    }

    #[test]
    fn device_json_moves_the_cloud_relative_or_absolute() {
        let (t, d) = device_with(r#"{"cloud": "../shared/cloud", "cloudQuotaBytes": 1000}"#);
        let root = cloud_root(&d).unwrap();
        assert_eq!(root, t.path().canonicalize().unwrap().join("shared/cloud"));
        assert!(root.is_dir());
        assert!(!d.root().join("cloud").exists());
        assert_eq!(cloud_quota(&d).unwrap(), Some(1000));

        let abs = t.path().join("abs-cloud");
        let (_t2, d2) = device_with(&serde_json::json!({ "cloud": abs }).to_string());
        assert_eq!(cloud_root(&d2).unwrap(), abs.canonicalize().unwrap());
    }

    #[test]
    fn bad_settings_name_the_key() {
        let (_t, d) = device_with(r#"{"cloud": 5, "cloudQuotaBytes": -1}"#);
        let e = cloud_root(&d).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert!(
            e.detail().contains("\"cloud\" must be a folder path"),
            "{}",
            e.detail()
        );
        let e = cloud_quota(&d).unwrap_err();
        assert!(e
            .detail()
            .contains("\"cloudQuotaBytes\" must be a non-negative integer, not -1"));
    }
}
