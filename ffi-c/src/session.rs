//! SessionBackup / SessionRestore for C: an opaque handle around the core session, whose events
//! reach the caller's ohf_backup_callbacks; plus the module functions updateTimer,
//! updateSendRate and getBackupInfo.

use std::ffi::{c_char, c_int, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ohfile_core::backup::capabilities::capabilities_file_from_fd;
use ohfile_core::backup::session::{self, Scenario, ServiceConfig, Session};
use ohfile_core::{Error, ErrorCode};

use crate::boundary::{ffi_call, null_arg, ohf_status, utf8_arg};
use crate::callbacks::{ohf_backup_callbacks, CallbackSink, OHF_BACKUP_CALLBACKS_VERSION};
use crate::ohf_device;
use crate::strings::{c_string, string_array};

/// The environment variable naming node-binding/lib/extension-host.mjs, which apps whose backup
/// extension is a Node module need (`exec` extensions need nothing).
const NODE_HOST_ENV: &str = "OHFILE_NODE_EXTENSION_HOST";

/// A backup or restore session (see ohf_session_backup_new, ohf_session_restore_new).
pub struct ohf_session {
    session: Session,
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
        let callbacks = callbacks.as_ref().ok_or_else(|| null_arg("callbacks"))?;
        if out.is_null() {
            return Err(null_arg("out"));
        }
        if callbacks.version != OHF_BACKUP_CALLBACKS_VERSION {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "callbacks->version is {}; this library supports {OHF_BACKUP_CALLBACKS_VERSION} \
                     (initialise the struct with ohf_backup_callbacks_init)",
                    callbacks.version
                ),
            ));
        }
        let sink = CallbackSink::new(*callbacks);
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

unsafe fn optional_array(
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
