//! `backup_config.json`, the app's backup profile, read with OpenHarmony's rules: wrong types fall
//! back to defaults rather than failing, exactly as the system's parser does. Only text that is not
//! JSON at all (or not an object) is an error, because then nobody can tell what the app meant.

use std::fs;
use std::io;
use std::path::Path;

use serde_json::{Map, Value};

use crate::device::json_file::{json_kind, parse_json_bytes};
use crate::error::{Error, ErrorCode, Result};

/// The 13 sandbox folders backed up when `includes` is absent or not an array.
pub const DEFAULT_INCLUDES: [&str; 13] = [
    "data/storage/el1/database/",
    "data/storage/el1/base/files/",
    "data/storage/el1/base/preferences/",
    "data/storage/el1/base/haps/*/database/",
    "data/storage/el1/base/haps/*/files/",
    "data/storage/el1/base/haps/*/preferences/",
    "data/storage/el2/database/",
    "data/storage/el2/base/files/",
    "data/storage/el2/base/preferences/",
    "data/storage/el2/base/haps/*/database/",
    "data/storage/el2/base/haps/*/files/",
    "data/storage/el2/base/haps/*/preferences/",
    "data/storage/el2/distributedfiles/",
];

/// One `optionDir` entry: include/exclude lists used instead of the main ones for a scene.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionDir {
    /// The scene (`backupScene` in the client's infos) this entry applies to.
    pub scene_id: String,
    /// Its include patterns.
    pub includes: Vec<String>,
    /// Its exclude patterns.
    pub excludes: Vec<String>,
}

/// An app's backup profile.
#[derive(Clone, Debug, PartialEq)]
pub struct BackupConfig {
    /// `allowToBackupRestore`: missing or not a bool → false.
    pub allow_to_backup_restore: bool,
    /// `includes`: glob patterns relative to the sandbox root. `[""]` means nothing.
    pub includes: Vec<String>,
    /// `excludes`: fnmatch patterns (leading-dir semantics) on absolute sandbox paths.
    pub excludes: Vec<String>,
    /// `fullBackupOnly`: restore into `.backup/restore/` and let the app move the data.
    pub full_backup_only: bool,
    /// `restoreDeps`: comma-separated bundle names.
    pub restore_deps: String,
    /// `supportScene`.
    pub support_scene: String,
    /// `extraInfo`, when it is an object.
    pub extra_info: Option<Map<String, Value>>,
    /// `requireCompatibility`.
    pub require_compatibility: bool,
    /// `backupScene`.
    pub backup_scene: String,
    /// `optionDir` entries.
    pub option_dirs: Vec<OptionDir>,
}

impl Default for BackupConfig {
    /// The profile of an app that has none: nothing allowed, default folders.
    fn default() -> Self {
        BackupConfig::from_object(&Map::new())
    }
}

impl BackupConfig {
    /// Reads `path`; a missing or empty file gives the defaults.
    pub fn load(path: &Path) -> Result<BackupConfig> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BackupConfig::default()),
            Err(e) => return Err(Error::io(&e, format!("cannot read {}", path.display()))),
        };
        BackupConfig::parse(&bytes, path)
    }

    /// Parses the text of a profile that came from `origin`.
    pub fn parse(bytes: &[u8], origin: &Path) -> Result<BackupConfig> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(BackupConfig::default());
        }
        match parse_json_bytes(bytes, origin)? {
            Value::Object(map) => Ok(BackupConfig::from_object(&map)),
            other => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{} must hold a JSON object, not {}",
                    origin.display(),
                    json_kind(&other)
                ),
            )),
        }
    }

    /// Applies OpenHarmony's field rules to a parsed object.
    pub fn from_object(obj: &Map<String, Value>) -> BackupConfig {
        let flag = |k: &str| matches!(obj.get(k), Some(Value::Bool(true)));
        let text = |k: &str| match obj.get(k) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        BackupConfig {
            allow_to_backup_restore: flag("allowToBackupRestore"),
            includes: parse_includes(obj.get("includes")),
            excludes: parse_excludes(obj.get("excludes")),
            full_backup_only: flag("fullBackupOnly"),
            restore_deps: text("restoreDeps"),
            support_scene: text("supportScene"),
            extra_info: match obj.get("extraInfo") {
                Some(Value::Object(m)) => Some(m.clone()),
                _ => None,
            },
            require_compatibility: flag("requireCompatibility"),
            backup_scene: text("backupScene"),
            option_dirs: parse_option_dirs(obj.get("optionDir")),
        }
    }

    /// The include/exclude lists for a scene: an `optionDir` entry with that `sceneId`, else the
    /// main lists.
    pub fn dirs_for_scene(&self, scene: Option<&str>) -> (&[String], &[String]) {
        if let Some(scene) = scene.filter(|s| !s.is_empty()) {
            if let Some(o) = self.option_dirs.iter().find(|o| o.scene_id == scene) {
                return (&o.includes, &o.excludes);
            }
        }
        (&self.includes, &self.excludes)
    }

    /// True when the profile backs up nothing at all (`includes` of only empty patterns).
    pub fn includes_nothing(&self) -> bool {
        self.includes.iter().all(|p| p.trim_matches('/').is_empty())
    }
}

/// `includes`: absent or not an array → the 13 defaults; the string items otherwise, and `[""]`
/// (nothing) when there are none.
fn parse_includes(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => {
            let list = strings_of(items);
            if list.is_empty() {
                vec![String::new()]
            } else {
                list
            }
        }
        _ => DEFAULT_INCLUDES.iter().map(|s| s.to_string()).collect(),
    }
}

/// `excludes`: not an array → none; non-string items are skipped.
fn parse_excludes(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => strings_of(items),
        _ => Vec::new(),
    }
}

fn parse_option_dirs(v: Option<&Value>) -> Vec<OptionDir> {
    let Some(Value::Array(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let obj = item.as_object()?;
            let scene_id = obj.get("sceneId")?.as_str()?.to_string();
            Some(OptionDir {
                scene_id,
                includes: parse_includes(obj.get("includes")),
                excludes: parse_excludes(obj.get("excludes")),
            })
        })
        .collect()
}

fn strings_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> BackupConfig {
        BackupConfig::from_object(v.as_object().unwrap())
    }

    fn defaults() -> Vec<String> {
        DEFAULT_INCLUDES.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn empty_or_missing_file_gives_defaults() {
        let c = BackupConfig::parse(b"  \n", Path::new("x")).unwrap();
        assert_eq!(c.includes, defaults());
        assert!(c.excludes.is_empty());
        assert!(!c.allow_to_backup_restore);
        let c = BackupConfig::load(Path::new("/nonexistent/backup_config.json")).unwrap();
        assert_eq!(c, BackupConfig::default());
        assert_eq!(c.includes.len(), 13);
    }

    #[test]
    fn allow_to_backup_restore_is_true_only_for_a_json_true() {
        assert!(cfg(json!({"allowToBackupRestore": true})).allow_to_backup_restore);
        for v in [
            json!({}),
            json!({"allowToBackupRestore": null}),
            json!({"allowToBackupRestore": "true"}),
            json!({"allowToBackupRestore": 1}),
            json!({"allowToBackupRestore": false}),
        ] {
            assert!(!cfg(v).allow_to_backup_restore);
        }
    }

    #[test]
    fn includes_absent_or_not_an_array_are_the_13_defaults() {
        assert_eq!(cfg(json!({})).includes, defaults());
        assert_eq!(cfg(json!({"includes": "data/"})).includes, defaults());
        assert_eq!(cfg(json!({"includes": {"a": 1}})).includes, defaults());
        assert_eq!(cfg(json!({"includes": null})).includes, defaults());
    }

    #[test]
    fn includes_empty_array_or_only_non_strings_mean_nothing() {
        let c = cfg(json!({"includes": []}));
        assert_eq!(c.includes, vec![String::new()]);
        assert!(c.includes_nothing());
        assert_eq!(
            cfg(json!({"includes": [1, true, null]})).includes,
            vec![String::new()]
        );
    }

    #[test]
    fn includes_keep_strings_including_empty_ones() {
        assert_eq!(
            cfg(json!({"includes": ["", "", ""]})).includes,
            vec!["", "", ""]
        );
        let c = cfg(json!({"includes": ["data/storage/el2/", 3, ""]}));
        assert_eq!(c.includes, vec!["data/storage/el2/", ""]);
        assert!(!c.includes_nothing());
    }

    #[test]
    fn excludes_not_an_array_are_none_and_non_strings_skipped() {
        assert!(cfg(json!({"excludes": "x"})).excludes.is_empty());
        assert!(cfg(json!({"excludes": []})).excludes.is_empty());
        assert_eq!(
            cfg(json!({"excludes": ["a", 1, "b"]})).excludes,
            vec!["a", "b"]
        );
    }

    #[test]
    fn full_backup_only_and_require_compatibility_are_bools() {
        assert!(cfg(json!({"fullBackupOnly": true})).full_backup_only);
        assert!(!cfg(json!({"fullBackupOnly": "true"})).full_backup_only);
        assert!(!cfg(json!({"fullBackupOnly": null})).full_backup_only);
        assert!(cfg(json!({"requireCompatibility": true})).require_compatibility);
        assert!(!cfg(json!({"requireCompatibility": 1})).require_compatibility);
    }

    #[test]
    fn restore_deps_support_scene_and_backup_scene_are_strings() {
        let c = cfg(
            json!({"restoreDeps": "com.a,com.b", "supportScene": "clone", "backupScene": "s1"}),
        );
        assert_eq!(
            (
                c.restore_deps.as_str(),
                c.support_scene.as_str(),
                c.backup_scene.as_str()
            ),
            ("com.a,com.b", "clone", "s1")
        );
        let c = cfg(json!({"restoreDeps": true, "supportScene": 5, "backupScene": null}));
        assert_eq!(
            (
                c.restore_deps.as_str(),
                c.support_scene.as_str(),
                c.backup_scene.as_str()
            ),
            ("", "", "")
        );
    }

    #[test]
    fn extra_info_is_kept_only_when_an_object() {
        let c = cfg(json!({"extraInfo": {"supportScene": ["a"], "x": 1}}));
        assert_eq!(
            Value::Object(c.extra_info.unwrap()),
            json!({"supportScene": ["a"], "x": 1})
        );
        assert!(cfg(json!({"extraInfo": "text"})).extra_info.is_none());
    }

    #[test]
    fn option_dir_replaces_lists_for_its_scene() {
        let c = cfg(
            json!({"includes": ["a/"], "optionDir": [{"sceneId": "s", "includes": ["b/"], "excludes": ["c"]}, {"bad": 1}]}),
        );
        assert_eq!(c.option_dirs.len(), 1);
        let (inc, exc) = c.dirs_for_scene(Some("s"));
        assert_eq!(
            (inc, exc),
            (&["b/".to_string()][..], &["c".to_string()][..])
        );
        assert_eq!(c.dirs_for_scene(Some("other")).0, &["a/".to_string()][..]);
        assert_eq!(c.dirs_for_scene(None).0, &["a/".to_string()][..]);
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let c = cfg(json!({"名字": 1, "@#$": [], "allowToBackupRestore": true}));
        assert!(c.allow_to_backup_restore);
        assert_eq!(c.includes, defaults());
    }

    #[test]
    fn text_that_is_not_a_json_object_is_a_clear_error() {
        for bad in [&b"{\"includes\": ["[..], b"[1,2]", b"nonsense"] {
            let e =
                BackupConfig::parse(bad, Path::new("/r/apps/a/backup_config.json")).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument);
            assert!(
                e.message().contains("/r/apps/a/backup_config.json"),
                "{}",
                e.message()
            );
        }
    }
}
