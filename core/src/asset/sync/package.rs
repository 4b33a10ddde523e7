//! The sealed package an app's synced assets travel in: `"OHFASSET" ‖ version (1) ‖ salt (32) ‖
//! AES-256-GCM blob`. The blob key is HKDF-SHA256 of the trust-group key with the package's random
//! salt; the associated data is the header plus the source bundle name, so a package moved into
//! another bundle's backup does not open. The plaintext (JSON, below) exists only in memory.

use serde::{Deserialize, Serialize};

use crate::asset::crypto;
use crate::error::{Error, ErrorCode, Result};

const MAGIC: &[u8; 8] = b"OHFASSET";
const VERSION: u8 = 1;
const SALT_LEN: usize = 32;
const HEADER_LEN: usize = MAGIC.len() + 1 + SALT_LEN;
const INFO: &[u8] = b"ohfile asset sync package v1";

/// What a package holds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Contents {
    /// The bundle whose assets these are.
    pub source: String,
    /// When the export ran (ms since the epoch).
    pub exported_at: u64,
    /// Per bucket: how many assets were meant to travel and how many could not leave.
    pub buckets: Vec<BucketCount>,
    /// The assets that left.
    pub assets: Vec<Exported>,
}

/// One bucket's export count.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BucketCount {
    /// The group id in hex, if a group bucket.
    pub group: Option<String>,
    pub attr_encrypted: bool,
    pub total: u32,
    pub failed: u32,
    /// Set when the bucket could not be exported at all.
    pub error: Option<i32>,
}

/// One exported asset (no local labels, no ids, no owner: the target decides those).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Exported {
    pub group: Option<String>,
    pub attr_encrypted: bool,
    /// Hex.
    pub alias: String,
    /// Hex.
    pub secret: String,
    pub sync_type: u32,
    pub accessibility: u32,
    pub auth_type: u32,
    pub require_password_set: bool,
    pub is_persistent: bool,
    pub wrap_type: u32,
    pub create_time: u64,
    pub update_time: u64,
    /// (label slot, hex value): critical and normal labels only.
    pub labels: Vec<(usize, String)>,
}

fn aad(header: &[u8], source: &str) -> Vec<u8> {
    let mut a = header.to_vec();
    a.push(b'|');
    a.extend_from_slice(source.as_bytes());
    a
}

/// Seals `contents` for the trust group of `group_key`.
pub(crate) fn seal(group_key: &[u8; 32], contents: &Contents) -> Result<Vec<u8>> {
    let plain = serde_json::to_vec(contents)
        .map_err(|e| Error::new(ErrorCode::AssetOutOfMemory, e.to_string()))?;
    let salt = crypto::random::<SALT_LEN>()?;
    let mut out = Vec::with_capacity(HEADER_LEN + plain.len() + 28);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&salt);
    let key = crypto::derive_key(group_key, &salt, INFO);
    let blob = crypto::seal(&crypto::cipher(&key), &aad(&out, &contents.source), &plain)?;
    out.extend_from_slice(&blob);
    Ok(out)
}

/// Opens a package of `source`'s assets: 24000007 for a malformed file, 24000004 when it was not
/// sealed for this trust group (or was altered).
pub(crate) fn open(group_key: &[u8; 32], source: &str, bytes: &[u8]) -> Result<Contents> {
    if bytes.len() < HEADER_LEN || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::new(
            ErrorCode::AssetDataCorrupted,
            "not an asset sync package",
        ));
    }
    if bytes[MAGIC.len()] != VERSION {
        return Err(Error::new(
            ErrorCode::AssetUnsupported,
            format!("asset sync package version {}", bytes[MAGIC.len()]),
        ));
    }
    let (header, blob) = bytes.split_at(HEADER_LEN);
    let key = crypto::derive_key(group_key, &header[MAGIC.len() + 1..], INFO);
    let plain = crypto::open(&crypto::cipher(&key), &aad(header, source), blob).map_err(|_| {
        Error::new(
            ErrorCode::AssetAccessDenied,
            format!(
                "the asset package of {source} was not sealed for this device's trust group, or was altered"
            ),
        )
    })?;
    let contents: Contents = serde_json::from_slice(&plain)
        .map_err(|e| Error::new(ErrorCode::AssetDataCorrupted, format!("asset package: {e}")))?;
    if contents.source != source {
        return Err(Error::new(
            ErrorCode::AssetDataCorrupted,
            "the asset package names another bundle",
        ));
    }
    Ok(contents)
}
