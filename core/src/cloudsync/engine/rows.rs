//! The rows the engine writes, one constructor per situation, so every path records a state the
//! same way.

use crate::cloudsync::backend::ObjectMeta;
use crate::cloudsync::state_db::{Dirty, FileRow, LocalStat, Position, Tx, UploadStatus};
use crate::error::Result;

/// A file only in the cloud: a placeholder row, no local file.
pub(crate) fn cloud_only(meta: &ObjectMeta) -> FileRow {
    FileRow {
        path: meta.key.clone(),
        position: Position::Cloud,
        dirty: Dirty::Synced,
        upload: UploadStatus::Unknown,
        cloud_version: Some(meta.version.clone()),
        sha256: Some(meta.sha256.clone()),
        size: meta.size,
        mtime_ms: meta.modified,
        local: None,
    }
}

/// A local file with stat `local` holding exactly version `meta`.
pub(crate) fn in_step(meta: &ObjectMeta, local: LocalStat, upload: UploadStatus) -> FileRow {
    FileRow {
        path: meta.key.clone(),
        position: Position::Both,
        dirty: Dirty::Synced,
        upload,
        cloud_version: Some(meta.version.clone()),
        sha256: Some(meta.sha256.clone()),
        size: meta.size,
        mtime_ms: meta.modified,
        local: Some(local),
    }
}

/// A local file the cloud does not have (any more): to be uploaded as new.
pub(crate) fn local_new(key: &str, stat: LocalStat, upload: UploadStatus) -> FileRow {
    FileRow {
        path: key.to_string(),
        position: Position::Local,
        dirty: Dirty::New,
        upload,
        cloud_version: None,
        sha256: None,
        size: stat.size,
        mtime_ms: stat.mtime_ns.div_euclid(1_000_000),
        local: None,
    }
}

/// The cloud object a row says it is in step with (`None` for a never uploaded file).
pub(crate) fn meta_of(row: &FileRow) -> Option<ObjectMeta> {
    Some(ObjectMeta {
        key: row.path.clone(),
        size: row.size,
        version: row.cloud_version.clone()?,
        sha256: row.sha256.clone().unwrap_or_default(),
        modified: row.mtime_ms,
    })
}

/// Whether the local file with stat `stat` is exactly what `row` last synced.
pub(crate) fn is_in_step(row: &FileRow, stat: &LocalStat) -> bool {
    row.dirty == Dirty::Synced && row.position == Position::Both && row.local.as_ref() == Some(stat)
}

/// Records, after a download, that version `meta` now sits at its key with stat `local`.
/// Writes only when the row still expects that version (it is cloud-only, or in step with it);
/// returns `false` and writes nothing when the row has moved on (a newer cloud version was pulled,
/// the cloud deleted the file, or the file changed locally), in which case the caller's copy is
/// stale: the next sync run treats it like any local file (uploaded if new, a conflict copy if it
/// differs from the cloud's).
pub fn mark_downloaded(tx: &Tx<'_>, meta: &ObjectMeta, local: LocalStat) -> Result<bool> {
    let Some(row) = tx.get(&meta.key)? else {
        return Ok(false);
    };
    let same_version = row.cloud_version.as_deref() == Some(meta.version.as_str());
    let placeholder_or_synced = row.position == Position::Cloud
        || (row.position == Position::Both && row.dirty == Dirty::Synced);
    if !same_version || !placeholder_or_synced {
        return Ok(false);
    }
    tx.upsert(&in_step(meta, local, UploadStatus::Unknown))?;
    Ok(true)
}
