//! `cleanCache`: a synced file goes back to being cloud-only, and its local space is freed.

use super::local_file::Parked;
use crate::cloudsync::engine::{Entry, SyncedFolder};
use crate::cloudsync::fetch;
use crate::cloudsync::scope::SyncScope;
use crate::cloudsync::state_db::{Dirty, FileRow, Position, StateDb};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

fn not_uploaded(rel: &str) -> Error {
    Error::new(
        ErrorCode::OperationNotPermitted,
        format!("{rel} has changes not uploaded yet; its local copy is the only one"),
    )
}

fn no_such_file(rel: &str) -> Error {
    Error::new(
        ErrorCode::NoSuchFile,
        format!("{rel}: no such file, locally or in the cloud"),
    )
}

/// Evicts the local copy of `rel` when it is in step with the cloud version its row records.
pub(crate) fn clean_cache(device: &Device, scope: &SyncScope, rel: &str) -> Result<()> {
    let folder = SyncedFolder::open(device, scope)?;
    let mut db = StateDb::open(device, scope)?;
    let parked = db.write(|tx| {
        // Decided inside the write transaction: no sync run can change the row meanwhile.
        let row = tx.get(rel)?;
        let local = folder.entry(rel)?;
        let (row, stat) = match (row, local) {
            (None, Entry::Absent) => return Err(no_such_file(rel)),
            (None, Entry::File(_)) => return Err(not_uploaded(rel)),
            (_, Entry::Other) => {
                return Err(Error::new(
                    ErrorCode::NoSuchFile,
                    format!("{rel} is not a regular file"),
                ))
            }
            // Already cloud-only: only a partial download may be left to free.
            (Some(r), Entry::Absent) if r.position == Position::Cloud => return Ok(None),
            (Some(_), Entry::Absent) => return Err(no_such_file(rel)),
            (Some(r), Entry::File(s)) => (r, s),
        };
        let in_step = row.position == Position::Both
            && row.dirty == Dirty::Synced
            && row.cloud_version.is_some()
            && row.local == Some(stat);
        if !in_step {
            return Err(not_uploaded(rel));
        }
        let parked = Parked::park(&folder, rel, &stat)?;
        tx.upsert(&FileRow {
            position: Position::Cloud,
            local: None,
            ..row
        })?;
        // Returned to be deleted after the commit; a failed commit drops it, which puts the file
        // back.
        Ok(Some(parked))
    })?;
    if let Some(p) = parked {
        p.finish()?;
    }
    fetch::discard_partial(device, scope, rel)
}
