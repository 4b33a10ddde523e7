//! The cloud as the sync engine sees it: object storage with versions.
//!
//! The shape follows S3 on purpose so an S3-compatible backend can implement it without the
//! engine changing: a namespace is a bucket prefix, a key an object name, a version an ETag,
//! [`PutCondition::IfAbsent`] is `If-None-Match: *`, [`PutCondition::IfVersion`] is `If-Match`,
//! a ranged get is `Range: bytes=`, and [`PutOptions::modified`] travels as user metadata (the
//! way rclone keeps `X-Amz-Meta-Mtime`). The one thing S3 lacks, the change feed, an S3 backend
//! keeps as journal objects beside the data.

use std::io::{Read, Write};

use super::cloud_error::CloudResult;

/// What the cloud knows about one stored object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectMeta {
    /// The key (a relative path inside its namespace).
    pub key: String,
    /// Content length in bytes.
    pub size: u64,
    /// Opaque version (ETag-like); a different value after every put, even of identical content.
    pub version: String,
    /// SHA-256 of the content, upper-case hex (as the incremental manifest and OpenHarmony write it).
    pub sha256: String,
    /// The file's modification time in ms since the epoch, as the uploader gave it (the time of
    /// the put when it gave none); a download sets it back on the local file.
    pub modified: i64,
}

/// When a put may happen. A condition that does not hold fails with
/// [`CloudError::PreconditionFailed`](super::CloudError::PreconditionFailed), atomically with
/// the check: no other writer can slip in between.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PutCondition {
    /// Unconditionally (create or overwrite).
    #[default]
    Always,
    /// Only when no object exists under the key (S3 `If-None-Match: *`).
    IfAbsent,
    /// Only when the current object has exactly this version (S3 `If-Match`): compare-and-swap.
    IfVersion(String),
}

/// When a delete may happen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DeleteCondition {
    /// Unconditionally; deleting a missing object succeeds (as in S3), so retries are harmless.
    #[default]
    Always,
    /// Only when the current object has exactly this version; a missing object fails the
    /// condition, so "delete what I last saw" never deletes someone else's newer upload.
    IfVersion(String),
}

/// Options of [`CloudBackend::put`]. More than a bare condition because the file's modification
/// time has to travel with its content: the other device sets it on the downloaded file, and the
/// engine's "content changed" rule compares edit times as well as hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// When the put may happen.
    pub condition: PutCondition,
    /// The local file's modification time (ms); `None` records the time of the put.
    pub modified: Option<i64>,
}

impl PutOptions {
    /// A put only when the key is free.
    pub fn if_absent() -> Self {
        PutOptions {
            condition: PutCondition::IfAbsent,
            modified: None,
        }
    }

    /// A put only over exactly `version`.
    pub fn if_version(version: impl Into<String>) -> Self {
        PutOptions {
            condition: PutCondition::IfVersion(version.into()),
            modified: None,
        }
    }

    /// The same options, recording `modified` (ms) as the object's modification time.
    pub fn with_modified(mut self, modified: i64) -> Self {
        self.modified = Some(modified);
        self
    }
}

/// Options of [`CloudBackend::get`]: a byte range (for resumable downloads) and a version guard
/// (so a resumed download never splices two versions together).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// First byte to send. Equal to the size sends nothing; beyond it is 13900020.
    pub offset: u64,
    /// At most this many bytes; `None` = to the end.
    pub len: Option<u64>,
    /// Fail with `PreconditionFailed` unless the current version is this one.
    pub if_version: Option<String>,
}

impl GetOptions {
    /// The bytes from `offset` to the end, only if the object is still at `version`: what a
    /// resumed download asks for.
    pub fn resume(offset: u64, version: impl Into<String>) -> Self {
        GetOptions {
            offset,
            len: None,
            if_version: Some(version.into()),
        }
    }
}

/// What happened to a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created or overwritten; the object as it is now.
    Upsert(ObjectMeta),
    /// Deleted.
    Delete,
}

/// One entry of the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The key that changed.
    pub key: String,
    /// Its latest change.
    pub kind: ChangeKind,
    /// Position in the namespace's feed (increases with every mutation).
    pub seq: u64,
}

/// One page of [`CloudBackend::changes_since`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangePage {
    /// Changes in feed order, each key at most once (its latest change).
    pub changes: Vec<Change>,
    /// The cursor to persist once these changes are applied; passing it back resumes exactly after
    /// them.
    pub cursor: u64,
    /// More changes follow: call again with `cursor`.
    pub has_more: bool,
}

/// The cloud: namespaces (a bundle name, or `"media"` for the gallery) of objects under keys
/// (relative paths). Every method validates the namespace and key first (13900020).
///
/// Implementations are shared across threads and, for stores in a folder, across processes: a
/// mutation is atomic and durable once it returns, and readers never see a partial object.
pub trait CloudBackend: Send + Sync {
    /// Stores `data` under `key` when `opts.condition` holds, and returns the new object's meta
    /// (a fresh version). A failed condition is `PreconditionFailed`; a put that would exceed the
    /// quota is `Full`. Nothing is visible until the whole stream has been stored.
    fn put(
        &self,
        ns: &str,
        key: &str,
        data: &mut dyn Read,
        opts: &PutOptions,
    ) -> CloudResult<ObjectMeta>;

    /// Writes the object's bytes (the range in `opts`) to `out` and returns its meta; `NotFound`
    /// when there is no such object. The bytes are always those of the returned version.
    fn get(
        &self,
        ns: &str,
        key: &str,
        opts: &GetOptions,
        out: &mut dyn Write,
    ) -> CloudResult<ObjectMeta>;

    /// The object's meta, or `None` when there is none.
    fn head(&self, ns: &str, key: &str) -> CloudResult<Option<ObjectMeta>>;

    /// Every object whose key starts with `prefix` (plain string prefix, as in S3), sorted by key.
    fn list(&self, ns: &str, prefix: &str) -> CloudResult<Vec<ObjectMeta>>;

    /// Deletes the object when `condition` holds.
    fn delete(&self, ns: &str, key: &str, condition: &DeleteCondition) -> CloudResult<()>;

    /// The changes after `cursor` (0 = from the beginning), at most `limit` per page (0 = no
    /// limit). Each key appears once with its latest change, so replaying pages in order leaves
    /// the caller with the cloud's state. A cursor this namespace never issued (the cloud was
    /// wiped or replaced) is `CursorExpired`: pull again from 0.
    fn changes_since(&self, ns: &str, cursor: u64, limit: usize) -> CloudResult<ChangePage>;

    /// A read-only file holding exactly the bytes of `version` of `key`, when this backend keeps
    /// objects as local files (the embedded store), so a download can copy in the kernel instead
    /// of streaming through `get`. `None` (the default, and any remote backend): use `get`.
    fn open_local_version(
        &self,
        _ns: &str,
        _key: &str,
        _version: &str,
    ) -> CloudResult<Option<std::fs::File>> {
        Ok(None)
    }

    /// `put` of a byte slice.
    fn put_bytes(
        &self,
        ns: &str,
        key: &str,
        bytes: &[u8],
        opts: &PutOptions,
    ) -> CloudResult<ObjectMeta> {
        self.put(ns, key, &mut &bytes[..], opts)
    }

    /// The whole object in memory, with its meta.
    fn get_bytes(&self, ns: &str, key: &str) -> CloudResult<(Vec<u8>, ObjectMeta)> {
        let mut buf = Vec::new();
        let meta = self.get(ns, key, &GetOptions::default(), &mut buf)?;
        Ok((buf, meta))
    }
}
