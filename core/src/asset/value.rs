//! `asset.Value`, `asset.AssetMap` and `asset.SyncResult`.

use std::collections::BTreeMap;

use super::tags::TagType;

/// The value of one attribute (`boolean | number | Uint8Array`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// A 32-bit unsigned number.
    Number(u32),
    /// Bytes.
    Bytes(Vec<u8>),
}

impl Value {
    /// The tag type this value fits.
    pub fn tag_type(&self) -> TagType {
        match self {
            Value::Bool(_) => TagType::Bool,
            Value::Number(_) => TagType::Number,
            Value::Bytes(_) => TagType::Bytes,
        }
    }
}

/// Attributes by tag (`Map<Tag, Value>`).
pub type AssetMap = BTreeMap<u32, Value>;

/// What `querySyncResult` answers for one app and bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncResult {
    /// 0 when the last sync ran, else the error that stopped it.
    pub result_code: i32,
    /// The assets that should have been synced; `None` when the sync failed before counting.
    pub total_count: Option<u32>,
    /// The assets among them that were not synced.
    pub failed_count: Option<u32>,
}

impl SyncResult {
    /// The documented shape: both counts omitted when `result_code != 0` and the total is 0.
    pub fn new(result_code: i32, total: u32, failed: u32) -> SyncResult {
        if result_code != 0 && total == 0 {
            SyncResult {
                result_code,
                total_count: None,
                failed_count: None,
            }
        } else {
            SyncResult {
                result_code,
                total_count: Some(total),
                failed_count: Some(failed),
            }
        }
    }
}

/// Typed reads of an already validated map.
pub(crate) trait MapExt {
    fn bytes(&self, tag: u32) -> Option<&[u8]>;
    fn number(&self, tag: u32) -> Option<u32>;
    fn boolean(&self, tag: u32) -> Option<bool>;
}

impl MapExt for AssetMap {
    fn bytes(&self, tag: u32) -> Option<&[u8]> {
        match self.get(&tag) {
            Some(Value::Bytes(b)) => Some(b),
            _ => None,
        }
    }
    fn number(&self, tag: u32) -> Option<u32> {
        match self.get(&tag) {
            Some(Value::Number(n)) => Some(*n),
            _ => None,
        }
    }
    fn boolean(&self, tag: u32) -> Option<bool> {
        match self.get(&tag) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}
