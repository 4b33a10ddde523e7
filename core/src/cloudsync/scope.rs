//! What syncs, and how files in it are named: an app's cloud folder
//! (`apps/<bundle>/sandbox/data/storage/el2/cloud/`, namespace = the bundle name) or the gallery
//! (`<root>/media/`, namespace `media`), and the `file://` URIs apps use for files in them.

use std::path::PathBuf;

use super::object_key::{validate_key, MEDIA_NAMESPACE};
use crate::device::bundle_name::validate_bundle_name;
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// The sandbox path of an app's cloud folder, as apps see it.
pub const APP_CLOUD_DIR: &str = "/data/storage/el2/cloud";

/// One synced folder.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SyncScope {
    /// An app's cloud drive folder.
    App(String),
    /// The gallery: `<root>/media/`.
    Gallery,
}

impl SyncScope {
    /// The scope of the installed app `bundle`: 401 for a malformed or unknown bundle name.
    pub fn app(device: &Device, bundle: &str) -> Result<SyncScope> {
        validate_bundle_name(bundle)
            .map_err(|e| Error::new(ErrorCode::ParameterError, e.detail().to_string()))?;
        if !device.is_installed(bundle) {
            return Err(Error::new(
                ErrorCode::ParameterError,
                format!("bundle {bundle} is not installed on this device"),
            ));
        }
        Ok(SyncScope::App(bundle.to_string()))
    }

    /// The cloud namespace this scope syncs with.
    pub fn namespace(&self) -> &str {
        match self {
            SyncScope::App(b) => b,
            SyncScope::Gallery => MEDIA_NAMESPACE,
        }
    }

    /// The local folder (not created).
    pub fn local_dir(&self, device: &Device) -> PathBuf {
        match self {
            SyncScope::App(b) => device
                .apps_dir()
                .join(b)
                .join("sandbox")
                .join(&APP_CLOUD_DIR[1..]),
            SyncScope::Gallery => device.root().join("media"),
        }
    }

    /// The URI of the file `rel` (a relative path with `/` separators) in this scope.
    pub fn uri_for(&self, rel: &str) -> String {
        let enc = encode_path(rel);
        match self {
            SyncScope::App(b) => format!("file://{b}{APP_CLOUD_DIR}/{enc}"),
            SyncScope::Gallery => format!("file://media/{enc}"),
        }
    }
}

/// Splits `uri` into its scope and the file's relative path. Anything that is not
/// `file://<bundle>/data/storage/el2/cloud/<path>` or `file://media/<path>` with a clean relative
/// path (no `.`/`..`/empty segments, no NUL, valid percent-encoding) is 14000002; a bundle that is
/// not installed is 14000002 too (no such sandbox).
pub fn parse_uri(device: &Device, uri: &str) -> Result<(SyncScope, String)> {
    let bad = |why: &str| Error::new(ErrorCode::InvalidUri, format!("{uri:?}: {why}"));
    let rest = uri
        .strip_prefix("file://")
        .ok_or_else(|| bad("not a file:// URI"))?;
    // The gallery documents spell its files `file:///media/…` (empty authority): the same place.
    let rest = if rest.starts_with("/media/") {
        &rest[1..]
    } else {
        rest
    };
    if rest.contains(['?', '#']) {
        return Err(bad("a query or fragment is not allowed"));
    }
    let (authority, path) = rest.split_at(rest.find('/').ok_or_else(|| bad("no path"))?);
    let (scope, inner) = if authority == MEDIA_NAMESPACE {
        (SyncScope::Gallery, &path[1..])
    } else {
        if validate_bundle_name(authority).is_err() {
            return Err(bad("the authority is neither a bundle name nor \"media\""));
        }
        let inner = path
            .strip_prefix(APP_CLOUD_DIR)
            .and_then(|p| p.strip_prefix('/'))
            .ok_or_else(|| {
                bad("the file is not in the app's cloud folder /data/storage/el2/cloud/")
            })?;
        if !device.is_installed(authority) {
            return Err(bad("no such app on this device"));
        }
        (SyncScope::App(authority.to_string()), inner)
    };
    let rel = decode_path(inner).ok_or_else(|| bad("bad percent-encoding"))?;
    if rel.is_empty()
        || rel
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(bad("the path must name a file inside the synced folder"));
    }
    validate_key(&rel).map_err(|e| bad(e.detail()))?;
    Ok((scope, rel))
}

/// Percent-decodes a URI path; `None` for malformed escapes, NUL or invalid UTF-8.
fn decode_path(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes what cannot stand in a URI path as is (as `fileUri.getUriFromPath` does).
fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"/-_.~!$&'()*+,;=:@".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device_with_app(bundle: &str) -> (tempfile::TempDir, Device) {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("apps").join(bundle);
        std::fs::create_dir_all(app.join("sandbox")).unwrap();
        std::fs::write(app.join("bundle.json"), "{}").unwrap();
        let device = Device::open(Some(dir.path())).unwrap();
        (dir, device)
    }

    #[test]
    fn app_and_gallery_uris_round_trip() {
        let (_d, device) = device_with_app("com.example.notes");
        let (scope, rel) = parse_uri(
            &device,
            "file://com.example.notes/data/storage/el2/cloud/a/b%20c.txt",
        )
        .unwrap();
        assert_eq!(scope, SyncScope::App("com.example.notes".into()));
        assert_eq!(rel, "a/b c.txt");
        assert_eq!(
            scope.uri_for(&rel),
            "file://com.example.notes/data/storage/el2/cloud/a/b%20c.txt"
        );
        let (scope, rel) = parse_uri(&device, "file://media/image/7").unwrap();
        assert_eq!((scope, rel.as_str()), (SyncScope::Gallery, "image/7"));
        let (scope, rel) = parse_uri(&device, "file:///media/Photo/1").unwrap();
        assert_eq!((scope, rel.as_str()), (SyncScope::Gallery, "Photo/1"));
    }

    #[test]
    fn anything_else_is_an_invalid_uri() {
        let (_d, device) = device_with_app("com.example.notes");
        for uri in [
            "",
            "/data/storage/el2/cloud/1.txt",
            "http://com.example.notes/data/storage/el2/cloud/1.txt",
            "file://com.example.notes/data/storage/el2/base/1.txt",
            "file://com.example.notes/data/storage/el2/cloudy/1.txt",
            "file://com.example.notes/data/storage/el2/cloud/",
            "file://com.example.notes/data/storage/el2/cloud/../x",
            "file://com.example.notes/data/storage/el2/cloud/a//b",
            "file://com.example.notes/data/storage/el2/cloud/a%2",
            "file://com.example.notes/data/storage/el2/cloud/a%00b",
            "file://com.example.other/data/storage/el2/cloud/1.txt",
            "file://media/",
            "file://media/../x",
            "file://media",
        ] {
            let err = parse_uri(&device, uri).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidUri, "{uri}");
        }
    }
}
