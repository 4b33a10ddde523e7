//! An installed app: `apps/<bundleName>/bundle.json`, its backup profile and its sandbox.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::json_file::{json_kind, read_json_object};
use crate::backup::config::BackupConfig;
use crate::error::{Error, ErrorCode, Result};

/// How the service starts an app's backup extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtensionLaunch {
    /// A Node module (path relative to the app folder) whose default export subclasses
    /// `BackupExtensionAbility`.
    NodeModule(String),
    /// Any program, spoken to over the line protocol on stdin/stdout.
    Exec(Vec<String>),
}

/// The `extension` object of `bundle.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionSpec {
    /// The ability name reported as `extensionName` (e.g. `BackupExtensionAbility`).
    pub name: String,
    /// How to start it.
    pub launch: ExtensionLaunch,
}

/// The parsed `bundle.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleManifest {
    /// `versionCode` (a non-negative integer).
    pub version_code: u64,
    /// `versionName`.
    pub version_name: String,
    /// The backup extension, if the app has one.
    pub extension: Option<ExtensionSpec>,
}

/// An app installed on a device.
#[derive(Clone, Debug)]
pub struct InstalledApp {
    /// The bundle name (already validated).
    pub name: String,
    /// `apps/<bundleName>/`.
    pub dir: PathBuf,
    /// Its `bundle.json`.
    pub manifest: BundleManifest,
    /// Its `backup_config.json` (defaults when absent).
    pub config: BackupConfig,
}

impl InstalledApp {
    /// Loads the app in `dir` (whose name is `name`): `bundle.json` must exist and be valid.
    pub fn load(name: &str, dir: &Path) -> Result<InstalledApp> {
        let manifest_path = dir.join("bundle.json");
        let manifest = match read_json_object(&manifest_path)? {
            Some(obj) => BundleManifest::from_json(&obj, &manifest_path)?,
            None => {
                return Err(Error::new(
                    ErrorCode::BundleInfoEmpty,
                    format!("{} does not exist", manifest_path.display()),
                )
                .with_data(name))
            }
        };
        let config = BackupConfig::load(&dir.join("backup_config.json"))?;
        Ok(InstalledApp {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            manifest,
            config,
        })
    }

    /// The app's sandbox: what the app sees as `/`.
    pub fn sandbox(&self) -> PathBuf {
        self.dir.join("sandbox")
    }

    /// The extension name reported in capability files ("" when the app has no extension).
    pub fn extension_name(&self) -> &str {
        self.manifest
            .extension
            .as_ref()
            .map(|e| e.name.as_str())
            .unwrap_or("")
    }
}

impl BundleManifest {
    /// Parses the object read from `path` (used in messages).
    pub fn from_json(obj: &Map<String, Value>, path: &Path) -> Result<BundleManifest> {
        let bad = |what: String| {
            Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("{}: {what}", path.display()),
            ))
        };
        let version_code = match obj.get("versionCode") {
            Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64().unwrap_or_default(),
            Some(other) => {
                return bad(format!(
                    "\"versionCode\" must be a non-negative integer, not {}",
                    describe(other)
                ))
            }
            None => return bad("\"versionCode\" is missing".into()),
        };
        let version_name = match obj.get("versionName") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return bad(format!(
                    "\"versionName\" must be a string, not {}",
                    json_kind(other)
                ))
            }
            None => return bad("\"versionName\" is missing".into()),
        };
        let extension = match obj.get("extension") {
            None | Some(Value::Null) => None,
            Some(Value::Object(ext)) => Some(ExtensionSpec::from_json(ext, path)?),
            Some(other) => {
                return bad(format!(
                    "\"extension\" must be an object, not {}",
                    json_kind(other)
                ))
            }
        };
        Ok(BundleManifest {
            version_code,
            version_name,
            extension,
        })
    }
}

impl ExtensionSpec {
    fn from_json(ext: &Map<String, Value>, path: &Path) -> Result<ExtensionSpec> {
        let bad = |what: &str| {
            Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("{}: extension {what}", path.display()),
            ))
        };
        let name = match ext.get("name") {
            None => "BackupExtensionAbility".to_string(),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return bad("\"name\" must be a non-empty string"),
        };
        let launch = match (ext.get("module"), ext.get("exec")) {
            (Some(Value::String(m)), None) if !m.is_empty() => {
                ExtensionLaunch::NodeModule(m.clone())
            }
            (None, Some(Value::Array(argv))) if !argv.is_empty() => {
                let mut args = Vec::with_capacity(argv.len());
                for a in argv {
                    match a {
                        Value::String(s) => args.push(s.clone()),
                        _ => return bad("\"exec\" must be an array of strings"),
                    }
                }
                ExtensionLaunch::Exec(args)
            }
            (Some(_), Some(_)) => return bad("has both \"module\" and \"exec\"; give one"),
            (None, None) => return bad("needs \"module\" (a Node module) or \"exec\" (a command)"),
            _ => return bad(
                "\"module\" must be a non-empty string and \"exec\" a non-empty array of strings",
            ),
        };
        Ok(ExtensionSpec { name, launch })
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("the number {n}"),
        other => json_kind(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<BundleManifest> {
        BundleManifest::from_json(v.as_object().unwrap(), Path::new("/r/apps/a/bundle.json"))
    }

    #[test]
    fn manifest_fields_and_extension_forms() {
        let m = parse(json!({"versionCode": 1000000, "versionName": "1.0.0"})).unwrap();
        assert_eq!(
            (m.version_code, m.version_name.as_str(), m.extension),
            (1000000, "1.0.0", None)
        );
        let m = parse(json!({"versionCode": 1, "versionName": "x", "extension": {"name": "Ext", "module": "ext.mjs"}})).unwrap();
        assert_eq!(
            m.extension.unwrap(),
            ExtensionSpec {
                name: "Ext".into(),
                launch: ExtensionLaunch::NodeModule("ext.mjs".into())
            }
        );
        let m = parse(json!({"versionCode": 1, "versionName": "x", "extension": {"exec": ["python3", "ext.py"]}})).unwrap();
        let ext = m.extension.unwrap();
        assert_eq!(ext.name, "BackupExtensionAbility");
        assert_eq!(
            ext.launch,
            ExtensionLaunch::Exec(vec!["python3".into(), "ext.py".into()])
        );
    }

    #[test]
    fn manifest_errors_name_the_file_and_field() {
        for (v, needle) in [
            (json!({"versionName": "1"}), "\"versionCode\" is missing"),
            (
                json!({"versionCode": -1, "versionName": "1"}),
                "non-negative integer",
            ),
            (
                json!({"versionCode": "1", "versionName": "1"}),
                "not a string",
            ),
            (json!({"versionCode": 1}), "\"versionName\" is missing"),
            (
                json!({"versionCode": 1, "versionName": 2}),
                "\"versionName\" must be a string",
            ),
            (
                json!({"versionCode": 1, "versionName": "1", "extension": {}}),
                "needs \"module\"",
            ),
            (
                json!({"versionCode": 1, "versionName": "1", "extension": {"module": "a", "exec": ["b"]}}),
                "both",
            ),
            (
                json!({"versionCode": 1, "versionName": "1", "extension": 3}),
                "must be an object",
            ),
        ] {
            let e = parse(v).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument);
            assert!(
                e.message().contains("/r/apps/a/bundle.json"),
                "{}",
                e.message()
            );
            assert!(
                e.message().contains(needle),
                "{} lacks {needle}",
                e.message()
            );
        }
    }
}
