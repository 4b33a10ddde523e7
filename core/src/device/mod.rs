//! The device: a directory (the device root) holding `device.json`, the installed apps with their
//! sandboxes, the gallery, the embedded cloud and the services' own state.

pub mod app;
pub mod bundle_name;
pub mod info;
pub mod json_file;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use app::{BundleManifest, ExtensionLaunch, ExtensionSpec, InstalledApp};
pub use bundle_name::validate_bundle_name;
pub use info::DeviceInfo;

use crate::error::{Error, ErrorCode, Result};

/// The environment variable naming the default device root.
pub const ROOT_ENV: &str = "OHFILE_ROOT";

/// An opened device root.
#[derive(Clone, Debug)]
pub struct Device {
    root: PathBuf,
}

impl Device {
    /// Opens the device at `root`, or the default device when `root` is `None`.
    ///
    /// An explicit root (argument or `$OHFILE_ROOT`) must be an existing directory. The fallback
    /// root under `$XDG_DATA_HOME` is created on first use, so a fresh user has an empty device.
    pub fn open(root: Option<&Path>) -> Result<Device> {
        let (root, explicit) = match root {
            Some(r) => (r.to_path_buf(), true),
            None => match std::env::var_os(ROOT_ENV).filter(|v| !v.is_empty()) {
                Some(r) => (PathBuf::from(r), true),
                None => (fallback_root()?, false),
            },
        };
        if !explicit {
            fs::create_dir_all(&root).map_err(|e| {
                Error::io(
                    &e,
                    format!("cannot create the default device root {}", root.display()),
                )
            })?;
        }
        let meta = fs::metadata(&root).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::new(
                    ErrorCode::NoSuchFile,
                    format!("device root {} does not exist", root.display()),
                )
            } else {
                Error::io(&e, format!("cannot open device root {}", root.display()))
            }
        })?;
        if !meta.is_dir() {
            return Err(Error::new(
                ErrorCode::NotADirectory,
                format!("device root {} is not a directory", root.display()),
            ));
        }
        let root = root
            .canonicalize()
            .map_err(|e| Error::io(&e, format!("cannot resolve {}", root.display())))?;
        fs::read_dir(&root)
            .map_err(|e| Error::io(&e, format!("cannot read device root {}", root.display())))?;
        let device = Device { root };
        device.info()?; // a malformed device.json is reported at open, naming the file
        Ok(device)
    }

    /// The device root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `device.json`, read now (it also carries conditions that change while a device is open).
    pub fn info(&self) -> Result<DeviceInfo> {
        DeviceInfo::load(&self.root.join("device.json"))
    }

    /// `<root>/apps/`.
    pub fn apps_dir(&self) -> PathBuf {
        self.root.join("apps")
    }

    /// `<root>/state/`, created on demand.
    pub fn state_dir(&self) -> Result<PathBuf> {
        self.ensure_dir(&self.root.join("state"))
    }

    /// `<root>/state/<sub>`, created on demand.
    pub fn state_subdir(&self, sub: &str) -> Result<PathBuf> {
        let state = self.state_dir()?;
        self.ensure_dir(&state.join(sub))
    }

    fn ensure_dir(&self, dir: &Path) -> Result<PathBuf> {
        fs::create_dir_all(dir)
            .map_err(|e| Error::io(&e, format!("cannot create {}", dir.display())))?;
        Ok(dir.to_path_buf())
    }

    /// The installed app `name`: 13900020 for a bad name, 13500005 when it is not installed.
    pub fn app(&self, name: &str) -> Result<InstalledApp> {
        validate_bundle_name(name).map_err(|e| e.with_data(name))?;
        let dir = self.apps_dir().join(name);
        if !dir.join("bundle.json").is_file() {
            return Err(Error::new(
                ErrorCode::BundleInfoEmpty,
                format!("bundle {name} is not installed"),
            )
            .with_data(name));
        }
        InstalledApp::load(name, &dir).map_err(|e| e.with_data(name))
    }

    /// Whether `name` is a valid bundle name of an installed app.
    pub fn is_installed(&self, name: &str) -> bool {
        validate_bundle_name(name).is_ok()
            && self.apps_dir().join(name).join("bundle.json").is_file()
    }

    /// Every installed app, sorted by bundle name. A folder without `bundle.json` is not an app and
    /// is passed over; a folder that has one must have a valid name and valid files.
    pub fn installed_apps(&self) -> Result<Vec<InstalledApp>> {
        let apps_dir = self.apps_dir();
        let entries = match fs::read_dir(&apps_dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&e, format!("cannot read {}", apps_dir.display()))),
        };
        let mut apps = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| Error::io(&e, format!("cannot read {}", apps_dir.display())))?;
            let path = entry.path();
            if !path.join("bundle.json").is_file() {
                continue;
            }
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("app folder {} is not valid UTF-8", path.display()),
                )
            })?;
            validate_bundle_name(name).map_err(|e| {
                Error::new(
                    e.code(),
                    format!("{} (app folder {})", e.detail(), path.display()),
                )
            })?;
            apps.push(InstalledApp::load(name, &path)?);
        }
        apps.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(apps)
    }
}

/// `${XDG_DATA_HOME:-$HOME/.local/share}/ohfile`.
fn fallback_root() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("ohfile"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/ohfile")),
        None => Err(Error::new(
            ErrorCode::InvalidArgument,
            "no device root: set OHFILE_ROOT (or HOME / XDG_DATA_HOME)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_root_must_be_an_existing_directory() {
        let t = tempfile::tempdir().unwrap();
        let missing = t.path().join("nope");
        let e = Device::open(Some(&missing)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::NoSuchFile);
        assert!(e.message().contains("nope"));
        let file = t.path().join("file");
        fs::write(&file, "x").unwrap();
        let e = Device::open(Some(&file)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotADirectory);
        assert!(e.message().contains("is not a directory"));
    }

    #[test]
    fn device_json_defaults_and_errors() {
        let t = tempfile::tempdir().unwrap();
        let d = Device::open(Some(t.path())).unwrap();
        let info = d.info().unwrap();
        assert_eq!(
            (info.device_type.as_str(), info.system_full_name.as_str()),
            ("default", "default")
        );
        fs::write(
            t.path().join("device.json"),
            r#"{"deviceType":"phone","systemFullName":"OpenHarmony-5.0"}"#,
        )
        .unwrap();
        let info = d.info().unwrap();
        assert_eq!(
            (info.device_type.as_str(), info.system_full_name.as_str()),
            ("phone", "OpenHarmony-5.0")
        );
        fs::write(t.path().join("device.json"), "{oops").unwrap();
        let e = Device::open(Some(t.path())).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert!(
            e.message().contains("device.json is not valid JSON"),
            "{}",
            e.message()
        );
        fs::write(t.path().join("device.json"), r#"{"deviceType": 3}"#).unwrap();
        assert!(Device::open(Some(t.path()))
            .unwrap_err()
            .message()
            .contains("\"deviceType\" must be a string"));
    }

    #[test]
    fn apps_are_listed_sorted_and_validated() {
        let t = tempfile::tempdir().unwrap();
        let d = Device::open(Some(t.path())).unwrap();
        assert!(d.installed_apps().unwrap().is_empty());
        for n in ["com.b.app", "com.a.app"] {
            fs::create_dir_all(t.path().join("apps").join(n)).unwrap();
            fs::write(
                t.path().join("apps").join(n).join("bundle.json"),
                r#"{"versionCode":1,"versionName":"1"}"#,
            )
            .unwrap();
        }
        fs::create_dir_all(t.path().join("apps/not-an-app")).unwrap(); // no bundle.json: passed over
        let names: Vec<_> = d
            .installed_apps()
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["com.a.app", "com.b.app"]);
        assert!(d.is_installed("com.a.app"));
        assert_eq!(
            d.app("com.zzz").unwrap_err().code(),
            ErrorCode::BundleInfoEmpty
        );
        assert_eq!(
            d.app("../etc").unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
        fs::create_dir_all(t.path().join("apps/bad-name")).unwrap();
        fs::write(t.path().join("apps/bad-name/bundle.json"), "{}").unwrap();
        let e = d.installed_apps().unwrap_err();
        assert!(e.message().contains("bad-name"), "{}", e.message());
    }
}
