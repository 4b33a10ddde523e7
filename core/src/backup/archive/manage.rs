//! `manage.json`, the index a backup sends last: one object per item sent (each tar part and each
//! big file) with its sandbox path and `stat`, in OpenHarmony's format (reference §8.1).

use serde_json::{json, Map, Value};

use crate::error::{Error, ErrorCode, Result};

/// `st_mode` assumed when an entry has none (OpenHarmony's default: a regular file, 0660).
pub const DEFAULT_MODE: u32 = 0o100660;

/// One item of `manage.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManageEntry {
    /// The uri as sent: `part.N.tar` or the big file's name.
    pub file_name: String,
    /// The absolute sandbox path of the big file, or the tar's own sandbox path for parts.
    pub path: String,
    /// `st_size`.
    pub size: u64,
    /// `st_mode` (type bits included).
    pub mode: u32,
    /// `st_atim` as (seconds, nanoseconds).
    pub atime: (i64, i64),
    /// `st_mtim` as (seconds, nanoseconds).
    pub mtime: (i64, i64),
    /// A file sent on its own fd (over 2 MiB), not one of our tar parts.
    pub is_big_file: bool,
    /// A big file that is itself an app's `.tar`.
    pub is_user_tar: bool,
}

/// Serialises the entries as OpenHarmony's `manage.json` (keys in its order).
pub fn to_json(entries: &[ManageEntry]) -> Vec<u8> {
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "fileName": e.file_name,
                "information": {
                    "path": e.path,
                    "stat": {
                        "st_size": e.size,
                        "st_mode": e.mode,
                        "st_atim": { "tv_sec": e.atime.0, "tv_nsec": e.atime.1 },
                        "st_mtim": { "tv_sec": e.mtime.0, "tv_nsec": e.mtime.1 },
                    },
                },
                "isUserTar": e.is_user_tar,
                "isBigFile": e.is_big_file,
            })
        })
        .collect();
    // Serialising a Value built from plain numbers, strings and bools cannot fail.
    serde_json::to_vec(&Value::Array(items)).unwrap_or_else(|_| b"[]".to_vec())
}

/// Parses a `manage.json`. Not a JSON array: 13900020. Items that are not objects, have no
/// `information` or an empty `fileName` are skipped (as OpenHarmony does); a missing `st_mode`
/// is 0o100660; without `isBigFile` (old files) a name not ending in `.tar` counts as big.
pub fn parse(bytes: &[u8]) -> Result<Vec<ManageEntry>> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("manage.json is not valid JSON: {e}"),
        )
    })?;
    let Value::Array(items) = value else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "manage.json must be a JSON array of entries",
        ));
    };
    Ok(items.iter().filter_map(parse_entry).collect())
}

fn parse_entry(item: &Value) -> Option<ManageEntry> {
    let obj = item.as_object()?;
    let file_name = obj.get("fileName")?.as_str()?;
    if file_name.is_empty() {
        return None;
    }
    let info = obj.get("information")?.as_object()?;
    let empty = Map::new();
    let stat = info
        .get("stat")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let is_big_file = match obj.get("isBigFile").and_then(Value::as_bool) {
        Some(b) => b,
        None => !file_name.ends_with(".tar"),
    };
    Some(ManageEntry {
        file_name: file_name.to_string(),
        path: info
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        size: stat.get("st_size").and_then(unsigned).unwrap_or(0),
        mode: stat
            .get("st_mode")
            .and_then(unsigned)
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(DEFAULT_MODE),
        atime: time_of(stat.get("st_atim")),
        mtime: time_of(stat.get("st_mtim")),
        is_big_file,
        is_user_tar: obj
            .get("isUserTar")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// A non-negative integer (also from a float with no fraction, as some writers emit).
fn unsigned(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    })
}

fn time_of(v: Option<&Value>) -> (i64, i64) {
    let get = |k: &str| {
        v.and_then(|t| t.get(k))
            .and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)))
            .unwrap_or(0)
    };
    (get("tv_sec"), get("tv_nsec"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u32, big: bool) -> ManageEntry {
        ManageEntry {
            file_name: if big {
                format!("3fa2c0ffee00{i:04x}.mp4")
            } else {
                format!("part.{i}.tar")
            },
            path: if big {
                format!("/data/storage/el2/base/files/v{i}.mp4")
            } else {
                format!("/data/storage/el2/base/.backup/backup/part.{i}.tar")
            },
            size: 3 * 1024 * 1024 + u64::from(i),
            mode: 0o100644,
            atime: (1_700_000_000 + i64::from(i), 1),
            mtime: (1_600_000_000, 999_999_999),
            is_big_file: big,
            is_user_tar: false,
        }
    }

    #[test]
    fn round_trips_zero_one_and_three_entries() {
        for list in [
            vec![],
            vec![entry(1, true)],
            vec![entry(1, false), entry(2, true), {
                let mut e = entry(3, true);
                e.file_name = "0123456789abcdef.tar".into();
                e.is_user_tar = true;
                e
            }],
        ] {
            let bytes = to_json(&list);
            assert_eq!(parse(&bytes).unwrap(), list);
        }
        assert_eq!(to_json(&[]), b"[]");
    }

    #[test]
    fn writes_the_documented_shape_in_order() {
        let text = String::from_utf8(to_json(&[entry(1, false)])).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"[{"fileName":"part.1.tar","information":{"path":"#,
                r#""/data/storage/el2/base/.backup/backup/part.1.tar","stat":{"st_size":3145729,"#,
                r#""st_mode":33188,"st_atim":{"tv_sec":1700000001,"tv_nsec":1},"#,
                r#""st_mtim":{"tv_sec":1600000000,"tv_nsec":999999999}}},"#,
                r#""isUserTar":false,"isBigFile":false}]"#
            )
        );
    }

    #[test]
    fn a_non_array_is_invalid_argument() {
        for bad in [&b"{}"[..], b"42", b"\"x\"", b"not json", b""] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument);
            assert!(e.detail().contains("manage.json"), "{e}");
        }
    }

    #[test]
    fn skips_incomplete_items_and_applies_openharmony_defaults() {
        let text = br#"[
            {"fileName": "", "information": {"path": "/a"}},
            {"fileName": "no-info.bin"},
            42,
            {"information": {"path": "/no/name"}},
            {"fileName": "part.1.tar", "information": {"path": "/p/part.1.tar", "stat": {"st_size": 10}}},
            {"fileName": "abcd.mp4", "information": {"path": "/files/v.mp4"}},
            {"fileName": "x.tar", "information": {"path": "/x"}, "isBigFile": true, "isUserTar": true}
        ]"#;
        let list = parse(text).unwrap();
        let names: Vec<&str> = list.iter().map(|e| e.file_name.as_str()).collect();
        assert_eq!(names, ["part.1.tar", "abcd.mp4", "x.tar"]);
        // Old files without isBigFile: ".tar" is a part, anything else is big.
        assert!(!list[0].is_big_file);
        assert!(list[1].is_big_file);
        assert!(list[2].is_big_file && list[2].is_user_tar);
        assert_eq!(list[0].size, 10);
        assert_eq!(list[0].mode, 0o100660);
        assert_eq!(list[1].mode, DEFAULT_MODE);
        assert_eq!(list[1].path, "/files/v.mp4");
        assert_eq!(list[1].mtime, (0, 0));
    }
}
