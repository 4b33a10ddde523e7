//! Namespaces and keys are checked before any backend sees them, so a key can never name
//! something outside its namespace (in a folder or in a bucket) and every backend accepts the
//! same keys.

use crate::device::validate_bundle_name;
use crate::error::{Error, ErrorCode, Result};

/// The gallery's namespace (`GallerySync`, `<root>/media/`).
pub const MEDIA_NAMESPACE: &str = "media";

/// The longest key, in bytes (Linux `PATH_MAX`: any relative path a sandbox can hold fits).
pub const MAX_KEY_LEN: usize = 4096;

/// Checks a namespace: a valid bundle name (`"media"` is one too). 13900020 otherwise.
pub fn validate_namespace(ns: &str) -> Result<()> {
    validate_bundle_name(ns).map_err(|e| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("cloud namespace: {}", e.detail()),
        )
    })
}

/// Checks a key: a relative path of 1..=4096 bytes made of non-empty components, none `.` or
/// `..`, without NUL and without a leading or trailing `/`. 13900020 otherwise, naming the key.
pub fn validate_key(key: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("cloud key {key:?} is invalid: {why}"),
        ))
    };
    if key.is_empty() {
        return fail("it is empty");
    }
    if key.len() > MAX_KEY_LEN {
        return fail("it is longer than 4096 bytes");
    }
    if key.contains('\0') {
        return fail("it contains a NUL byte");
    }
    if key.starts_with('/') {
        return fail("it is an absolute path");
    }
    for component in key.split('/') {
        match component {
            "" => return fail("it has an empty path component"),
            "." | ".." => return fail(&format!("it has a {component:?} component")),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_or_confuse_are_rejected() {
        for good in [
            "a",
            "dir/file.txt",
            "é/ü ñ.jpg",
            ".hidden",
            "a..b",
            "x/...",
            "a\\b",
        ] {
            validate_key(good).unwrap();
        }
        let long = "a/".repeat(2048) + "b"; // 4097 bytes
        validate_key(&long[2..]).unwrap(); // 4095 bytes
        validate_key(&"b".repeat(MAX_KEY_LEN)).unwrap();
        for bad in [
            "", "/abs", "a//b", "a/", "..", "../x", "a/../b", "./a", "a/.", "nul\0", &long,
        ] {
            let e = validate_key(bad).unwrap_err();
            assert_eq!(e.code().code(), 13900020, "{bad:?}");
        }
    }

    #[test]
    fn namespaces_are_bundle_names_or_media() {
        validate_namespace("com.example.app").unwrap();
        validate_namespace(MEDIA_NAMESPACE).unwrap();
        for bad in ["", "../x", "a/b", "1abc"] {
            let e = validate_namespace(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument);
            assert!(e.detail().starts_with("cloud namespace"), "{}", e.detail());
        }
    }
}
