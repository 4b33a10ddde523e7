//! SessionBackup / IncrementalBackupSession / SessionRestore for C: an opaque handle around the
//! core session, whose events reach the caller's ohf_backup_callbacks, and the session methods of
//! API 18–20 (cancel, getLocalCapabilities, cleanBundleTempDir, getCompatibilityInfo); plus the
//! module functions updateTimer, updateSendRate, getBackupInfo and getBackupVersion. The
//! incremental appendBundles and getBackupDataSize are in session_incremental.rs.

use std::ffi::{c_char, c_int, CString, OsString};
use std::os::fd::IntoRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use once_cell::sync::Lazy;

use ohfile_core::backup::capabilities::capabilities_file_from_fd;
use ohfile_core::backup::session::{self, Scenario, ServiceConfig, Session};
use ohfile_core::Error;

use crate::boundary::{ffi_call, null_arg, ohf_status, utf8_arg};
use crate::callbacks::{ohf_backup_callbacks, CallbackSink};
use crate::ohf_device;
use crate::strings::{c_string, string_array};

/// The environment variable naming node-binding/lib/extension-host.mjs, which apps whose backup
/// extension is a Node module need (`exec` extensions need nothing).
const NODE_HOST_ENV: &str = "OHFILE_NODE_EXTENSION_HOST";

/// A backup or restore session (see ohf_session_backup_new, ohf_session_incremental_new,
/// ohf_session_restore_new).
pub struct ohf_session {
    pub(crate) session: Session,
    sink: Arc<CallbackSink>,
}

/// How this process's sessions start extensions, and the name a conflicting session sees.
fn service_config() -> ServiceConfig {
    let mut config = ServiceConfig::from_env();
    if let Some(host) = std::env::var_os(NODE_HOST_ENV).filter(|h| !h.is_empty()) {
        config.extension.node_host_script = Some(PathBuf::from(host));
    }
    let program = std::env::args_os()
        .next()
        .and_then(|a| Path::new(&a).file_name().map(OsString::from))
        .map(|n| n.to_string_lossy().into_owned());
    if let Some(program) = program {
        config.caller_name = format!("{program} ({})", config.caller_name);
    }
    config
}

unsafe fn session_new(
    dev: *const ohf_device,
    callbacks: *const ohf_backup_callbacks,
    scenario: Scenario,
    out: *mut *mut ohf_session,
) -> ohf_status {
    ffi_call(|| {
        let dev = dev.as_ref().ok_or_else(|| null_arg("dev"))?;
        // Only as many bytes as the struct's version has: a version-1 struct is shorter.
        let callbacks = ohf_backup_callbacks::read(callbacks)?;
        if out.is_null() {
            return Err(null_arg("out"));
        }
        let sink = CallbackSink::new(callbacks);
        let session = Session::new(dev.inner.clone(), scenario, service_config(), sink.clone())?;
        *out = Box::into_raw(Box::new(ohf_session { session, sink }));
        Ok(())
    })
}

/// new SessionBackup(callbacks): opens a backup session on `dev` (which may be freed afterwards).
/// `callbacks` is copied (see ohf_backup_callbacks for the thread its members run on); on success
/// `*out` receives a handle to release with ohf_session_free. One session per device at a time,
/// across processes: while another holds the device this is 13500013
/// (OHF_STATUS_SESSION_CONFLICT) with a message containing "Session Conflict" and the holder.
/// On failure nothing is kept and user_data_free is not called.
///
/// Apps whose backup extension is a Node module are started with the Node extension host script
/// named by the environment variable OHFILE_NODE_EXTENSION_HOST (the path of
/// node-binding/lib/extension-host.mjs); without it they fail their onBundleBegin with 13500009.
/// `exec` extensions and apps without an extension need nothing.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_backup_new(
    dev: *const ohf_device,
    callbacks: *const ohf_backup_callbacks,
    out: *mut *mut ohf_session,
) -> ohf_status {
    session_new(dev, callbacks, Scenario::Backup, out)
}

/// new IncrementalBackupSession(callbacks): opens a session for incremental backups. It is a
/// backup session (exactly ohf_session_backup_new; the name states the intent): append its
/// bundles with ohf_session_append_incremental_bundles, and every file of those bundles comes
/// with a manifest_fd (see ohf_file_ready). Bundles appended with
/// ohf_session_append_backup_bundles get a plain full backup, without manifests.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_incremental_new(
    dev: *const ohf_device,
    callbacks: *const ohf_backup_callbacks,
    out: *mut *mut ohf_session,
) -> ohf_status {
    session_new(dev, callbacks, Scenario::Backup, out)
}

/// new SessionRestore(callbacks): opens a restore session on `dev`; otherwise exactly like
/// ohf_session_backup_new (same conflict rule, same OHFILE_NODE_EXTENSION_HOST variable).
#[no_mangle]
pub unsafe extern "C" fn ohf_session_restore_new(
    dev: *const ohf_device,
    callbacks: *const ohf_backup_callbacks,
    out: *mut *mut ohf_session,
) -> ohf_status {
    session_new(dev, callbacks, Scenario::Restore, out)
}

/// SessionBackup.appendBundles(names, infos?): schedules `count` bundles of a backup session.
/// `infos` is NULL or `count` strings (the per-bundle backup details JSON). Returns once the
/// bundles are accepted; their progress arrives through the callbacks (an unknown bundle gets
/// on_bundle_begin with 13500005, one that does not allow backup 13500001). May be called again.
/// `names` may be NULL when `count` is 0. After ohf_session_release: 13900020.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_append_backup_bundles(
    session: *mut ohf_session,
    names: *const *const c_char,
    count: usize,
    infos: *const *const c_char,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        let names = string_array(names, count, "names")?;
        let infos = optional_array(infos, count)?;
        s.session.append_backup_bundles(&names, infos.as_deref())
    })
}

/// SessionRestore.appendBundles(capabilitiesFd, names, infos?): schedules `count` bundles of a
/// restore session, described by the old device's capability file (from
/// ohf_backup_get_local_capabilities there). The fd is duplicated: the caller keeps and closes
/// its own. A closed or bogus fd is 13900020; an invalid capability file is 13900020 after every
/// bundle got on_bundle_begin(13500005). `infos` is NULL or `count` strings.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_append_restore_bundles(
    session: *mut ohf_session,
    capabilities_fd: c_int,
    names: *const *const c_char,
    count: usize,
    infos: *const *const c_char,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        let names = string_array(names, count, "names")?;
        let infos = optional_array(infos, count)?;
        let capabilities = capabilities_file_from_fd(capabilities_fd)?;
        s.session
            .append_restore_bundles(&capabilities, &names, infos.as_deref())
    })
}

/// `infos`: NULL, or `count` strings.
pub(crate) unsafe fn optional_array(
    infos: *const *const c_char,
    count: usize,
) -> Result<Option<Vec<String>>, Error> {
    if infos.is_null() {
        Ok(None)
    } else {
        string_array(infos, count, "infos").map(Some)
    }
}

/// SessionRestore.getFileHandle({bundleName, uri}): asks for a writable fd for one file of a
/// restore bundle; it arrives through on_file_ready (with a manifest fd), once the bundle has
/// begun. `uri` is one plain file name of [0-9A-Za-z_.] (as the backup named it), else 13900020;
/// a bundle not in the session is 13900020, one already published 13900001.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_get_file_handle(
    session: *mut ohf_session,
    bundle_name: *const c_char,
    uri: *const c_char,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        let bundle = utf8_arg(bundle_name, "bundle_name")?;
        let uri = utf8_arg(uri, "uri")?;
        s.session.get_file_handle(bundle, uri)
    })
}

/// SessionRestore.publishFile({bundleName, uri: ""}): every file of the bundle has been written;
/// the service restores it and ends it with on_bundle_end. `uri` must be "" (else 13900001);
/// once per bundle (again: 13900001).
#[no_mangle]
pub unsafe extern "C" fn ohf_session_publish_file(
    session: *mut ohf_session,
    bundle_name: *const c_char,
    uri: *const c_char,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        let bundle = utf8_arg(bundle_name, "bundle_name")?;
        let uri = utf8_arg(uri, "uri")?;
        s.session.publish_file(bundle, uri)
    })
}

/// release(): ends the session now. Bundles still running are stopped without further callbacks
/// and the device is free for another session. From another thread it waits for a callback in
/// progress to return; from a callback it returns at once. Every later call on the session,
/// release included, is 13900020. The handle stays valid until ohf_session_free.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_release(session: *mut ohf_session) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        s.session.release()
    })
}

/// cancel(bundleName) (API 18): stops a bundle of the session. `*out_result` is 0 when the bundle
/// was running and is cancelled (it then ends with on_bundle_end(0, name) and no further files),
/// 13500011 (OHF_STATUS_CANCEL_UNSTARTED_TASK) when it is queued but has not started, 13500012
/// (OHF_STATUS_CANCEL_NO_TASK) when it is not in the session. After ohf_session_release:
/// 13900020.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_cancel(
    session: *mut ohf_session,
    bundle_name: *const c_char,
    out_result: *mut i32,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        let bundle = utf8_arg(bundle_name, "bundle_name")?;
        if out_result.is_null() {
            return Err(null_arg("out_result"));
        }
        *out_result = s.session.cancel(bundle)?;
        Ok(())
    })
}

/// getLocalCapabilities() of a session (API 18): like ohf_backup_get_local_capabilities, but only
/// the bundles that allow backup and without "backupVersion". `*out_fd` receives a read-only fd
/// positioned at 0, which the caller closes with close(2).
#[no_mangle]
pub unsafe extern "C" fn ohf_session_get_local_capabilities(
    session: *mut ohf_session,
    out_fd: *mut c_int,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        if out_fd.is_null() {
            return Err(null_arg("out_fd"));
        }
        *out_fd = s.session.local_capabilities()?.into_raw_fd();
        Ok(())
    })
}

/// cleanBundleTempDir(bundleName) (API 20): removes the app's backup and restore temp folders.
/// `*out_cleaned` is false when the bundle is not installed, a folder could not be removed, or
/// the session was released.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_clean_bundle_temp_dir(
    session: *mut ohf_session,
    bundle_name: *const c_char,
    out_cleaned: *mut bool,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        let bundle = utf8_arg(bundle_name, "bundle_name")?;
        if out_cleaned.is_null() {
            return Err(null_arg("out_cleaned"));
        }
        *out_cleaned = s.session.clean_bundle_temp_dir(bundle);
        Ok(())
    })
}

/// getCompatibilityInfo(bundleName, extInfo) (API 20): what the app's extension answers from
/// getBackupCompatibilityInfo (backup and incremental sessions) or getRestoreCompatibilityInfo
/// (restore sessions) within 1 s. `*out_info` receives the text, "" when the app is unknown, has
/// no extension, fails or is late; never NULL on success. Release it with ohf_string_free. A
/// Node-module extension needs OHFILE_NODE_EXTENSION_HOST (see ohf_session_backup_new).
#[no_mangle]
pub unsafe extern "C" fn ohf_session_get_compatibility_info(
    session: *mut ohf_session,
    bundle_name: *const c_char,
    ext_info: *const c_char,
    out_info: *mut *mut c_char,
) -> ohf_status {
    ffi_call(|| {
        let s = session.as_ref().ok_or_else(|| null_arg("session"))?;
        let bundle = utf8_arg(bundle_name, "bundle_name")?;
        let ext_info = utf8_arg(ext_info, "ext_info")?;
        if out_info.is_null() {
            return Err(null_arg("out_info"));
        }
        let info = s.session.compatibility_info(bundle, ext_info)?;
        *out_info = c_string(&info).into_raw();
        Ok(())
    })
}

/// Releases the session if that was not done yet, then frees the handle and calls
/// user_data_free (see ohf_backup_callbacks). NULL is a no-op. Must not run concurrently with
/// another call on the same session; from a callback it must be the last use of the session.
#[no_mangle]
pub unsafe extern "C" fn ohf_session_free(session: *mut ohf_session) {
    let _ = ffi_call(|| {
        if !session.is_null() {
            let ohf_session { session, sink } = *Box::from_raw(session);
            drop(session); // releases, and waits for the event thread unless on it
            sink.close();
        }
        Ok(())
    });
}

/// backup.updateTimer(bundleName, timeout): gives a bundle running in a session of this process
/// `timeout_ms` more milliseconds (0 ends it now with 13500003). `timeout_ms` outside
/// [0, 14400000] is 401 (OHF_STATUS_PARAMETER_ERROR). `*out_updated` is false when the bundle is
/// not running.
#[no_mangle]
pub unsafe extern "C" fn ohf_backup_update_timer(
    bundle_name: *const c_char,
    timeout_ms: i64,
    out_updated: *mut bool,
) -> ohf_status {
    ffi_call(|| {
        let bundle = utf8_arg(bundle_name, "bundle_name")?;
        if out_updated.is_null() {
            return Err(null_arg("out_updated"));
        }
        *out_updated = session::update_timer(bundle, timeout_ms)?;
        Ok(())
    })
}

/// backup.updateSendRate(bundleName, sendRate): the number of fds per second a bundle of a backup
/// session in this process hands over (0 pauses it; above 10000 is taken as 10000; negative is
/// 401). `*out_updated` is false when the bundle is not running in a backup session.
#[no_mangle]
pub unsafe extern "C" fn ohf_backup_update_send_rate(
    bundle_name: *const c_char,
    send_rate: i64,
    out_updated: *mut bool,
) -> ohf_status {
    ffi_call(|| {
        let bundle = utf8_arg(bundle_name, "bundle_name")?;
        if out_updated.is_null() {
            return Err(null_arg("out_updated"));
        }
        *out_updated = session::update_send_rate(bundle, send_rate)?;
        Ok(())
    })
}

/// backup.getBackupInfo(bundleName): starts the app's backup extension on `dev` and returns the
/// text its getBackupInfo gives, in `*out_info` (release it with ohf_string_free). `*out_info` is
/// NULL when the app is not installed, has no extension, or its extension fails. A Node-module
/// extension needs OHFILE_NODE_EXTENSION_HOST (see ohf_session_backup_new).
#[no_mangle]
pub unsafe extern "C" fn ohf_backup_get_backup_info(
    dev: *const ohf_device,
    bundle_name: *const c_char,
    out_info: *mut *mut c_char,
) -> ohf_status {
    ffi_call(|| {
        let dev = dev.as_ref().ok_or_else(|| null_arg("dev"))?;
        let bundle = utf8_arg(bundle_name, "bundle_name")?;
        if out_info.is_null() {
            return Err(null_arg("out_info"));
        }
        let info = session::get_backup_info(&dev.inner, bundle, &service_config());
        *out_info = info.map_or(std::ptr::null_mut(), |t| c_string(&t).into_raw());
        Ok(())
    })
}

static BACKUP_VERSION: Lazy<CString> = Lazy::new(|| c_string(&session::backup_version_json()));

/// backup.getBackupVersion() (API 18): the JSON text `{"backupVersion" : "…"}` naming the backup
/// protocol version this library speaks. Static storage; never NULL; do not free.
#[no_mangle]
pub extern "C" fn ohf_backup_get_backup_version() -> *const c_char {
    BACKUP_VERSION.as_ptr()
}
