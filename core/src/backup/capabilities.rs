//! The capability file: what a device can back up (`getLocalCapabilities`), and the validator that
//! restore applies to the capability file of the old device.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

use serde_json::{json, Value};

use super::scan::{scan, selected_bytes};
use crate::device::{json_file::json_kind, Device, InstalledApp};
use crate::error::{Error, ErrorCode, Result};

/// The backup protocol version ohfile writes (`backupVersion`, `getBackupVersion`).
pub const BACKUP_VERSION: &str = "20";

/// The largest capability file restore will read (a clone of thousands of apps stays far below).
const MAX_CAPABILITIES_BYTES: u64 = 64 * 1024 * 1024;

/// Builds the capability JSON of `device`: every installed app, sorted by bundle name.
pub fn local_capabilities(device: &Device) -> Result<Value> {
    let mut bundles = Vec::new();
    for app in device.installed_apps()? {
        bundles.push(bundle_info(&app)?);
    }
    local_capabilities_of(device, &bundles)
}

fn local_capabilities_of(device: &Device, bundles: &[Value]) -> Result<Value> {
    let info = device.info()?;
    Ok(json!({
        "backupVersion": BACKUP_VERSION,
        "systemFullName": info.system_full_name,
        "deviceType": info.device_type,
        "bundleInfos": bundles,
    }))
}

/// One `bundleInfos` entry. `spaceOccupied` is the bytes really present under the folders the
/// profile selects; like OpenHarmony it is 0 for an app that does not allow backup.
fn bundle_info(app: &InstalledApp) -> Result<Value> {
    let cfg = &app.config;
    let space = if cfg.allow_to_backup_restore {
        selected_bytes(&app.sandbox(), &cfg.includes, &cfg.excludes)
            .map_err(|e| e.with_data(&app.name))?
    } else {
        0
    };
    let extra_info = match &cfg.extra_info {
        Some(m) => Value::Object(m.clone()),
        None => json!({"supportScene": []}),
    };
    Ok(json!({
        "name": app.name,
        "appIndex": 0,
        "versionCode": app.manifest.version_code,
        "versionName": app.manifest.version_name,
        "spaceOccupied": space,
        "allToBackup": cfg.allow_to_backup_restore,
        "fullBackupOnly": cfg.full_backup_only,
        "requireCompatibility": cfg.require_compatibility,
        "needToInstall": false,
        "extensionName": app.extension_name(),
        "restoreDeps": cfg.restore_deps,
        "supportScene": cfg.support_scene,
        "extraInfo": extra_info,
    }))
}

/// Writes the capability JSON of `device` into an anonymous temp file (O_TMPFILE under
/// `<root>/state/tmp`, so nothing is left behind even on a crash) and returns it positioned at 0.
pub fn write_local_capabilities(device: &Device) -> Result<File> {
    write_anonymous(device, &local_capabilities(device)?)
}

fn write_anonymous(device: &Device, caps: &Value) -> Result<File> {
    let text = serde_json::to_vec_pretty(caps).map_err(|e| {
        Error::new(
            ErrorCode::UnknownError,
            format!("cannot encode capabilities: {e}"),
        )
    })?;
    let dir = device.state_subdir("tmp")?;
    let mut file = tempfile::tempfile_in(&dir).map_err(|e| {
        Error::io(
            &e,
            format!("cannot create a temp file in {}", dir.display()),
        )
    })?;
    file.write_all(&text)
        .map_err(|e| Error::io(&e, "cannot write the capability file"))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(&e, "cannot rewind the capability file"))?;
    Ok(file)
}

/// `{bundleName, lastIncrementalTime}`: when a bundle was last backed up incrementally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncrementalBackupTime {
    /// The bundle.
    pub bundle_name: String,
    /// Unix seconds, compared with files' mtime; 0 means "never" (everything counts as changed).
    pub last_incremental_time: i64,
}

/// The capability JSON for an incremental backup: the listed bundles that are installed (unknown
/// names are passed over, as OpenHarmony does), each with `increSpaceOccupied`, the bytes of the
/// selected files modified after its `lastIncrementalTime`.
pub fn incremental_capabilities(device: &Device, list: &[IncrementalBackupTime]) -> Result<Value> {
    let mut caps = local_capabilities_of(device, &[])?;
    let mut bundles = Vec::new();
    for item in list {
        if !device.is_installed(&item.bundle_name) {
            continue;
        }
        let app = device.app(&item.bundle_name)?;
        let mut info = bundle_info(&app)?;
        let since = item.last_incremental_time.max(0);
        let mut changed = 0u64;
        if app.config.allow_to_backup_restore {
            scan(
                &app.sandbox(),
                &app.config.includes,
                &app.config.excludes,
                |e| {
                    if since == 0 || e.mtime.0 > since {
                        changed += e.size;
                    }
                    Ok(())
                },
            )
            .map_err(|e| e.with_data(&app.name))?;
        }
        info["increSpaceOccupied"] = json!(changed);
        bundles.push(info);
    }
    caps["bundleInfos"] = Value::Array(bundles);
    Ok(caps)
}

/// The capability file of a session (`session.getLocalCapabilities()`, API 18): like the module's,
/// without `backupVersion`, and only the bundles that allow backup.
pub fn write_session_capabilities(device: &Device) -> Result<File> {
    let mut caps = local_capabilities(device)?;
    if let Some(obj) = caps.as_object_mut() {
        obj.remove("backupVersion");
    }
    if let Some(Value::Array(list)) = caps.get_mut("bundleInfos") {
        list.retain(|b| b["allToBackup"] == Value::Bool(true));
    }
    write_anonymous(device, &caps)
}

/// [`incremental_capabilities`] written like [`write_local_capabilities`].
pub fn write_incremental_capabilities(
    device: &Device,
    list: &[IncrementalBackupTime],
) -> Result<File> {
    write_anonymous(device, &incremental_capabilities(device, list)?)
}

/// One app as the old device described it.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteBundleInfo {
    /// `name`.
    pub name: String,
    /// `appIndex` (0 when absent).
    pub app_index: i64,
    /// `versionCode`; restore hands it to the app's `onRestore`.
    pub version_code: i64,
    /// `versionName`.
    pub version_name: String,
    /// `spaceOccupied`.
    pub space_occupied: i64,
    /// `allToBackup`.
    pub all_to_backup: bool,
    /// `fullBackupOnly` (false when absent).
    pub full_backup_only: bool,
    /// `extensionName`.
    pub extension_name: String,
    /// `restoreDeps` ("" when absent).
    pub restore_deps: String,
}

/// A validated capability file of another device.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteCapabilities {
    /// `systemFullName` ("default" when absent).
    pub system_full_name: String,
    /// `deviceType` ("default" when absent).
    pub device_type: String,
    /// `bundleInfos`.
    pub bundles: Vec<RemoteBundleInfo>,
}

impl RemoteCapabilities {
    /// The entry for `name` (clone index 0), if listed.
    pub fn bundle(&self, name: &str) -> Option<&RemoteBundleInfo> {
        self.bundles
            .iter()
            .find(|b| b.name == name && b.app_index == 0)
    }
}

/// Validates a capability file as restore does: `bundleInfos` must be a non-empty array and every
/// entry must have `name`, `versionCode`, `versionName`, `spaceOccupied`, `allToBackup` and
/// `extensionName` with the right types; one bad entry rejects the whole file (13900020).
pub fn parse_remote_capabilities(bytes: &[u8]) -> Result<RemoteCapabilities> {
    let bad = |why: String| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("invalid capability file: {why}"),
        )
    };
    let root: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON ({e})")))?;
    let obj = root.as_object().ok_or_else(|| {
        bad(format!(
            "the top level is {}, not an object",
            json_kind(&root)
        ))
    })?;
    let infos = match obj.get("bundleInfos") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => return Err(bad("\"bundleInfos\" is empty".into())),
        Some(other) => {
            return Err(bad(format!(
                "\"bundleInfos\" is {}, not an array",
                json_kind(other)
            )))
        }
        None => return Err(bad("\"bundleInfos\" is missing".into())),
    };
    let text_or_default = |key: &str| {
        obj.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
            .to_string()
    };
    let mut bundles = Vec::with_capacity(infos.len());
    for (i, entry) in infos.iter().enumerate() {
        let e = entry.as_object().ok_or_else(|| {
            bad(format!(
                "bundleInfos[{i}] is {}, not an object",
                json_kind(entry)
            ))
        })?;
        let field = |key: &str| {
            e.get(key)
                .ok_or_else(|| bad(format!("bundleInfos[{i}] has no \"{key}\"")))
        };
        let typed = |key: &str, want: &str| bad(format!("bundleInfos[{i}].{key} must be {want}"));
        let string = |key: &str| -> Result<String> {
            field(key)?
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| typed(key, "a string"))
        };
        let integer = |key: &str| -> Result<i64> {
            field(key)?.as_i64().ok_or_else(|| typed(key, "an integer"))
        };
        let boolean = |key: &str| -> Result<bool> {
            field(key)?.as_bool().ok_or_else(|| typed(key, "a boolean"))
        };
        let optional = |key: &str| e.get(key).filter(|v| !v.is_null());
        bundles.push(RemoteBundleInfo {
            name: string("name")?,
            app_index: match optional("appIndex") {
                None => 0,
                Some(v) => v.as_i64().ok_or_else(|| typed("appIndex", "an integer"))?,
            },
            version_code: integer("versionCode")?,
            version_name: string("versionName")?,
            space_occupied: integer("spaceOccupied")?,
            all_to_backup: boolean("allToBackup")?,
            full_backup_only: optional("fullBackupOnly")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            extension_name: string("extensionName")?,
            restore_deps: optional("restoreDeps")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
    }
    Ok(RemoteCapabilities {
        system_full_name: text_or_default("systemFullName"),
        device_type: text_or_default("deviceType"),
        bundles,
    })
}

/// Takes a caller's capability fd for the session: duplicated (the caller keeps and closes its
/// own), so a closed or bogus fd is 13900020 "fd is invalid" right away.
pub fn capabilities_file_from_fd(fd: i32) -> Result<File> {
    // SAFETY: F_DUPFD_CLOEXEC only reads `fd`; a bad value fails with EBADF.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if fd < 0 || dup < 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("AppendBundles fd is invalid ({fd})"),
        ));
    }
    // SAFETY: `dup` is a new descriptor that nothing else owns.
    Ok(unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(dup) })
}

/// Reads and validates the capability file behind a caller's fd, from offset 0 (with `pread`, so
/// the caller's file position is left alone). A closed or unreadable fd is 13900020.
pub fn read_remote_capabilities(file: &File) -> Result<RemoteCapabilities> {
    let bad_fd = |e: std::io::Error| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("the capability fd is invalid: {e}"),
        )
    };
    let len = file.metadata().map_err(bad_fd)?.len();
    if len > MAX_CAPABILITIES_BYTES {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("the capability file is too large ({len} bytes)"),
        ));
    }
    let mut buf = vec![0u8; len as usize];
    file.read_exact_at(&mut buf, 0).map_err(bad_fd)?;
    parse_remote_capabilities(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Read;
    use std::path::Path;

    fn install(root: &Path, name: &str, bundle: &str, config: Option<&str>) {
        let dir = root.join("apps").join(name);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("bundle.json"), bundle).unwrap();
        if let Some(c) = config {
            fs::write(dir.join("backup_config.json"), c).unwrap();
        }
    }

    #[test]
    fn capabilities_list_every_app_with_documented_fields() {
        let t = tempfile::tempdir().unwrap();
        fs::write(
            t.path().join("device.json"),
            r#"{"deviceType":"phone","systemFullName":"OpenHarmony-5.1"}"#,
        )
        .unwrap();
        install(
            t.path(),
            "com.example.b",
            r#"{"versionCode":2,"versionName":"2.0"}"#,
            None,
        );
        install(
            t.path(),
            "com.example.a",
            r#"{"versionCode":1000000,"versionName":"1.0.0","extension":{"name":"BackupExtensionAbility","module":"ext.mjs"}}"#,
            Some(
                r#"{"allowToBackupRestore":true,"fullBackupOnly":true,"restoreDeps":"com.example.b","supportScene":"s","extraInfo":{"k":1}}"#,
            ),
        );
        let files = t
            .path()
            .join("apps/com.example.a/sandbox/data/storage/el2/base/files");
        fs::create_dir_all(&files).unwrap();
        fs::write(files.join("x"), vec![0u8; 1234]).unwrap();
        fs::write(
            t.path()
                .join("apps/com.example.a/sandbox/data/storage/el2/big-but-not-included"),
            vec![0u8; 99],
        )
        .unwrap();
        let d = Device::open(Some(t.path())).unwrap();
        let caps = local_capabilities(&d).unwrap();
        assert_eq!(caps["backupVersion"], BACKUP_VERSION);
        assert_eq!(caps["deviceType"], "phone");
        assert_eq!(caps["systemFullName"], "OpenHarmony-5.1");
        let b = caps["bundleInfos"].as_array().unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0]["name"], "com.example.a");
        assert_eq!(b[0]["appIndex"], 0);
        assert_eq!(b[0]["versionCode"], 1000000);
        assert_eq!(b[0]["versionName"], "1.0.0");
        assert_eq!(b[0]["spaceOccupied"], 1234);
        assert_eq!(b[0]["allToBackup"], true);
        assert_eq!(b[0]["fullBackupOnly"], true);
        assert_eq!(b[0]["extensionName"], "BackupExtensionAbility");
        assert_eq!(b[0]["restoreDeps"], "com.example.b");
        assert_eq!(b[0]["supportScene"], "s");
        assert_eq!(b[0]["extraInfo"], json!({"k": 1}));
        // Not allowed: listed, with allToBackup false, nothing to back up and no extension.
        assert_eq!(b[1]["name"], "com.example.b");
        assert_eq!(b[1]["allToBackup"], false);
        assert_eq!(b[1]["spaceOccupied"], 0);
        assert_eq!(b[1]["extensionName"], "");
        assert_eq!(b[1]["extraInfo"], json!({"supportScene": []}));
        // What we write, our own validator accepts.
        let remote = parse_remote_capabilities(caps.to_string().as_bytes()).unwrap();
        assert_eq!(
            remote.bundle("com.example.a").unwrap().version_code,
            1000000
        );
        assert_eq!(remote.device_type, "phone");
    }

    #[test]
    fn the_capability_file_is_anonymous_and_at_offset_zero() {
        let t = tempfile::tempdir().unwrap();
        install(
            t.path(),
            "com.example.a",
            r#"{"versionCode":1,"versionName":"1"}"#,
            Some(r#"{"allowToBackupRestore":true}"#),
        );
        let d = Device::open(Some(t.path())).unwrap();
        let mut f = write_local_capabilities(&d).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["bundleInfos"][0]["name"], "com.example.a");
        assert_eq!(
            fs::read_dir(t.path().join("state/tmp")).unwrap().count(),
            0,
            "no named file left behind"
        );
    }

    #[test]
    fn malformed_app_files_are_errors_naming_the_file() {
        let t = tempfile::tempdir().unwrap();
        install(
            t.path(),
            "com.example.a",
            r#"{"versionCode":1,"versionName":"1"}"#,
            Some("{not json"),
        );
        let d = Device::open(Some(t.path())).unwrap();
        let e = write_local_capabilities(&d).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert!(
            e.message().contains("com.example.a/backup_config.json"),
            "{}",
            e.message()
        );
        install(
            t.path(),
            "com.example.a",
            r#"{"versionName":"1"}"#,
            Some("{}"),
        );
        let e = write_local_capabilities(&d).unwrap_err();
        assert!(
            e.message()
                .contains("bundle.json: \"versionCode\" is missing"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn incremental_capabilities_count_bytes_changed_since_the_last_backup() {
        let t = tempfile::tempdir().unwrap();
        install(
            t.path(),
            "com.example.a",
            r#"{"versionCode":1,"versionName":"1"}"#,
            Some(r#"{"allowToBackupRestore":true}"#),
        );
        let files = t
            .path()
            .join("apps/com.example.a/sandbox/data/storage/el2/base/files");
        fs::create_dir_all(&files).unwrap();
        fs::write(files.join("old"), vec![0u8; 100]).unwrap();
        fs::write(files.join("new"), vec![0u8; 30]).unwrap();
        let set_mtime = |p: &Path, secs: i64| {
            let f = fs::File::options().write(true).open(p).unwrap();
            f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64))
                .unwrap();
        };
        set_mtime(&files.join("old"), 1_600_000_000);
        set_mtime(&files.join("new"), 1_700_000_100);
        let d = Device::open(Some(t.path())).unwrap();
        let list = |t: i64| {
            vec![
                IncrementalBackupTime {
                    bundle_name: "com.example.a".into(),
                    last_incremental_time: t,
                },
                IncrementalBackupTime {
                    bundle_name: "com.example.unknown".into(),
                    last_incremental_time: t,
                },
            ]
        };
        let caps = incremental_capabilities(&d, &list(1_700_000_000)).unwrap();
        let b = caps["bundleInfos"].as_array().unwrap();
        assert_eq!(b.len(), 1, "unknown bundles are passed over");
        assert_eq!(b[0]["spaceOccupied"], 130);
        assert_eq!(b[0]["increSpaceOccupied"], 30);
        let caps = incremental_capabilities(&d, &list(0)).unwrap();
        assert_eq!(caps["bundleInfos"][0]["increSpaceOccupied"], 130);
        assert_eq!(caps["backupVersion"], BACKUP_VERSION);
    }

    #[test]
    fn remote_validator_rejects_the_whole_file_for_one_bad_entry() {
        let good = json!({"name":"a.b","versionCode":1,"versionName":"1","spaceOccupied":0,"allToBackup":true,"extensionName":""});
        let ok = json!({"bundleInfos":[good.clone()]});
        assert!(parse_remote_capabilities(ok.to_string().as_bytes()).is_ok());
        for key in [
            "name",
            "versionCode",
            "versionName",
            "spaceOccupied",
            "allToBackup",
            "extensionName",
        ] {
            let mut missing = good.clone();
            missing.as_object_mut().unwrap().remove(key);
            let doc = json!({"bundleInfos":[good.clone(), missing]});
            let e = parse_remote_capabilities(doc.to_string().as_bytes()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument);
            assert!(
                e.message()
                    .contains(&format!("bundleInfos[1] has no \"{key}\"")),
                "{}",
                e.message()
            );
            let mut wrong = good.clone();
            wrong[key] = json!([]);
            let doc = json!({"bundleInfos":[wrong]});
            assert!(parse_remote_capabilities(doc.to_string().as_bytes())
                .unwrap_err()
                .message()
                .contains(key));
        }
        for bad in [
            &b"nope"[..],
            b"[]",
            b"{}",
            br#"{"bundleInfos":[]}"#,
            br#"{"bundleInfos":{}}"#,
            br#"{"bundleInfos":[1]}"#,
        ] {
            assert_eq!(
                parse_remote_capabilities(bad).unwrap_err().code(),
                ErrorCode::InvalidArgument
            );
        }
    }

    #[test]
    fn remote_file_is_read_from_offset_zero_whatever_the_position() {
        let mut f = tempfile::tempfile().unwrap();
        let doc = json!({"bundleInfos":[{"name":"a.b","versionCode":1,"versionName":"1","spaceOccupied":0,"allToBackup":true,"extensionName":"E"}]});
        f.write_all(doc.to_string().as_bytes()).unwrap(); // position left at the end
        assert_eq!(
            read_remote_capabilities(&f).unwrap().bundles[0].extension_name,
            "E"
        );
    }
}
