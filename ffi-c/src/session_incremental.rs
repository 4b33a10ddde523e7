//! Incremental backup for C: IncrementalBackupSession.appendBundles, the session's
//! getBackupDataSize, and the module's getLocalCapabilities(dataList) (with increSpaceOccupied).

use std::ffi::{c_char, c_int};
use std::os::fd::IntoRawFd;

use ohfile_core::backup::capabilities::capabilities_file_from_fd;
use ohfile_core::backup::session::IncrementalBackupData;
use ohfile_core::backup::{write_incremental_capabilities, IncrementalBackupTime};
use ohfile_core::{Error, ErrorCode};

use crate::boundary::{ffi_call, null_arg, ohf_status, utf8_arg};
use crate::ohf_device;
use crate::session::{ohf_session, optional_array};

/// One bundle of ohf_session_append_incremental_bundles (IncrementalBackupData). The strings and
/// the fd are read during the call only.
#[repr(C)]
pub struct ohf_incremental_backup_data {
    /// The bundle (never NULL).
    pub bundle_name: *const c_char,
    /// When its previous backup ran, in Unix seconds (0: never).
    pub last_incremental_time: i64,
    /// A readable fd of the manifest of its previous backup: the manifest_fd that came with
    /// `manage.json` then. An empty file means there was no previous backup (everything is sent).
    /// The library reads it from offset 0 with pread and keeps a duplicate; the caller still
    /// owns, and closes, this one.
    pub manifest_fd: c_int,
    /// JSON text kept for the app (unused by the service); NULL is "".
    pub parameters: *const c_char,
    /// Bigger starts earlier; ties keep their order.
    pub priority: i64,
}

/// `{bundleName, lastIncrementalTime}` (IncrementalBackupTime): when a bundle was last backed up.
#[repr(C)]
pub struct ohf_incremental_backup_time {
    /// The bundle (never NULL).
    pub bundle_name: *const c_char,
    /// Unix seconds, compared with files' mtime; 0 means never (every file counts as changed).
    pub last_incremental_time: i64,
}

/// IncrementalBackupSession.appendBundles(bundlesToBackup, infos?): schedules `count` bundles of
/// a backup session (open it with ohf_session_incremental_new), each compared with the manifest
/// of its previous backup: only files that are new or changed are handed over. Every item comes
/// with a manifest_fd listing exactly its files, and `manage.json` (always sent, last) with the
/// manifest of every current file, which the caller keeps for the next run. `infos` is NULL or
/// `count` strings. `list` may be NULL when `count` is 0.
///
/// A NULL string, a closed or bogus manifest_fd, or a manifest that cannot be read or parsed
/// rejects the whole call with 13900020 before any bundle is scheduled (a full backup is never
/// assumed silently); the message names the element (`list[1].manifest_fd`) or the bundle.
/// Otherwise it is like ohf_session_append_backup_bundles (an unknown bundle gets
/// on_bundle_begin with 13500005). In a restore session or after ohf_session_release: 13900020.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_append_incremental_bundles(
    session: *mut ohf_session,
    list: *const ohf_incremental_backup_data,
    count: usize,
    infos: *const *const c_char,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        let items = slice_arg(list, count, "list")?;
        let infos = optional_array(infos, count)?;
        let mut data = Vec::with_capacity(count);
        for (i, item) in items.iter().enumerate() {
            let bundle_name = utf8_arg(item.bundle_name, &format!("list[{i}].bundle_name"))?;
            let parameters = if item.parameters.is_null() {
                ""
            } else {
                utf8_arg(item.parameters, &format!("list[{i}].parameters"))?
            };
            let manifest = capabilities_file_from_fd(item.manifest_fd).map_err(|_| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "list[{i}].manifest_fd ({}) of {bundle_name} is not an open fd",
                        item.manifest_fd
                    ),
                )
                .with_data(bundle_name)
            })?;
            data.push(IncrementalBackupData {
                bundle_name: bundle_name.to_string(),
                last_incremental_time: item.last_incremental_time,
                manifest,
                parameters: parameters.to_string(),
                priority: item.priority,
            });
        }
        s.session.append_incremental_bundles(data, infos.as_deref())
    })
}

/// getBackupDataSize(isPreciseScan, dataList) (API 18): starts scanning the `count` listed
/// bundles of a backup session and returns; the results arrive through on_backup_size_report
/// (a version-2 callbacks member): every 5 s while scanning and once at the end. Each bundle
/// reports `dataSize`, the bytes its backup profile selects, and `incDataSize`, the bytes changed
/// since its last_incremental_time (-1 unless `precise`); both are -1 for an unknown bundle.
/// `list` may be NULL when `count` is 0. A second scan while one runs, a restore session, a NULL
/// string, or a released session: 13900020.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_get_backup_data_size(
    session: *mut ohf_session,
    precise: bool,
    list: *const ohf_incremental_backup_time,
    count: usize,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        let list = backup_times(list, count)?;
        s.session.get_backup_data_size(precise, list)
    })
}

/// backup.getLocalCapabilities(dataList) (API 12): the capability JSON of
/// ohf_backup_get_local_capabilities for the `count` listed bundles that are installed (others
/// are passed over), each with "increSpaceOccupied", the bytes of its selected files modified
/// after its last_incremental_time. `*out_fd` receives a read-only fd positioned at 0, which the
/// caller closes with close(2). `list` may be NULL when `count` is 0.
#[no_mangle]
pub unsafe extern "C" fn ohf_backup_get_incremental_capabilities(
    dev: *const ohf_device,
    list: *const ohf_incremental_backup_time,
    count: usize,
    out_fd: *mut c_int,
) -> ohf_status {
    ffi_call(|| {
        let dev = dev.as_ref().ok_or_else(|| null_arg("dev"))?;
        let list = backup_times(list, count)?;
        if out_fd.is_null() {
            return Err(null_arg("out_fd"));
        }
        *out_fd = write_incremental_capabilities(&dev.inner, &list)?.into_raw_fd();
        Ok(())
    })
}

/// `count` elements at `p` (which may be NULL when `count` is 0).
///
/// # Safety
/// `p` must be NULL or point to `count` initialised elements that outlive the call.
unsafe fn slice_arg<'a, T>(p: *const T, count: usize, name: &str) -> Result<&'a [T], Error> {
    if count == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(null_arg(name));
    }
    Ok(std::slice::from_raw_parts(p, count))
}

unsafe fn backup_times(
    list: *const ohf_incremental_backup_time,
    count: usize,
) -> Result<Vec<IncrementalBackupTime>, Error> {
    slice_arg(list, count, "list")?
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Ok(IncrementalBackupTime {
                bundle_name: utf8_arg(t.bundle_name, &format!("list[{i}].bundle_name"))?
                    .to_string(),
                last_incremental_time: t.last_incremental_time,
            })
        })
        .collect()
}
