//! `getFileSyncState`: OpenHarmony's mapping of the row's upload status, plus what this
//! process knows better than a stored status (a download running, a stopped one's partial data,
//! a local file edited since its last sync).

use std::collections::HashMap;

use super::task;
use crate::cloudsync::engine::{Entry, SyncedFolder};
use crate::cloudsync::fetch;
use crate::cloudsync::progress::FileSyncState;
use crate::cloudsync::scope::parse_uri;
use crate::cloudsync::state_db::{FileRow, Position, StateDb, UploadStatus};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// Most URIs one batch `getFileSyncState` call takes (OpenHarmony's `GET_FILE_SYNC_MAX`).
pub const MAX_SYNC_STATE_URIS: usize = 100;

/// The sync state of the file at `uri` (app cloud folder or gallery). 14000002 for a bad URI,
/// 13900002 when there is neither a local file nor a cloud entry.
pub fn file_sync_state(device: &Device, uri: &str) -> Result<FileSyncState> {
    let mut dbs = HashMap::new();
    state_of(device, uri, &mut dbs)
}

/// [`file_sync_state`] of each of `uris`, in order. Any failure fails the whole call; more
/// than [`MAX_SYNC_STATE_URIS`] is 401.
pub fn file_sync_states(device: &Device, uris: &[String]) -> Result<Vec<FileSyncState>> {
    if uris.len() > MAX_SYNC_STATE_URIS {
        return Err(Error::new(
            ErrorCode::ParameterError,
            format!(
                "{} URIs given; at most {MAX_SYNC_STATE_URIS} per call",
                uris.len()
            ),
        ));
    }
    // One database connection per synced folder for the whole batch.
    let mut dbs = HashMap::new();
    uris.iter().map(|u| state_of(device, u, &mut dbs)).collect()
}

fn state_of(
    device: &Device,
    uri: &str,
    dbs: &mut HashMap<String, StateDb>,
) -> Result<FileSyncState> {
    let (scope, rel) = parse_uri(device, uri)?;
    if task::running(&task::key_of(device, &scope, &rel)).is_some() {
        return Ok(FileSyncState::Downloading);
    }
    let db = match dbs.entry(scope.namespace().to_string()) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => e.insert(StateDb::open(device, &scope)?),
    };
    let row = db.get(&rel)?;
    let local = SyncedFolder::open(device, &scope)?.entry(&rel)?;
    let missing = || {
        Error::new(
            ErrorCode::NoSuchFile,
            format!("{rel}: no such file, locally or in the cloud"),
        )
    };
    match (row, local) {
        (_, Entry::Other) => Err(Error::new(
            ErrorCode::NoSuchFile,
            format!("{rel} is not a regular file"),
        )),
        (None, Entry::Absent) => Err(missing()),
        // New here, or edited since it was last in step: waiting for the next upload.
        (None, Entry::File(_)) => Ok(FileSyncState::ToBeUploaded),
        (Some(r), Entry::File(s)) if r.local != Some(s) => Ok(FileSyncState::ToBeUploaded),
        (Some(r), Entry::File(_)) => Ok(mapped(&r)),
        (Some(r), Entry::Absent) if r.position == Position::Cloud => {
            let partial = match &r.cloud_version {
                Some(v) => fetch::partial_len(device, &scope, &rel, v)?,
                None => 0,
            };
            if partial > 0 {
                Ok(FileSyncState::Stopped)
            } else {
                Ok(mapped(&r))
            }
        }
        // Deleted on this device (the deletion is not synced yet): no such file here.
        (Some(_), Entry::Absent) => Err(missing()),
    }
}

/// OpenHarmony's mapping of `file_status` (anything else, "initial after download" among it,
/// is COMPLETED).
fn mapped(row: &FileRow) -> FileSyncState {
    match row.upload {
        UploadStatus::ToBeUploaded => FileSyncState::ToBeUploaded,
        UploadStatus::Uploading => FileSyncState::Uploading,
        UploadStatus::UploadFailure => FileSyncState::UploadFailure,
        UploadStatus::UploadSuccess => FileSyncState::UploadSuccess,
        UploadStatus::Unknown => FileSyncState::Completed,
    }
}
