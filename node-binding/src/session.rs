//! SessionBackup / SessionRestore for Node: the core session behind a class whose events reach
//! one JS function (the facade's dispatcher) through a weak threadsafe function. Each event waits
//! until JS has handled it, so a client that is slow to consume fds slows the service down
//! instead of piling descriptors up.

use std::fs::File;
use std::os::fd::IntoRawFd;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Task};
use napi_derive::napi;
use ohfile_core::backup::capabilities::capabilities_file_from_fd;
use ohfile_core::backup::session::{
    self, EventSink, IncrementalBackupData, Scenario, ServiceConfig, Session, SessionEvent,
};
use ohfile_core::backup::IncrementalBackupTime;
use ohfile_core::{Device, Error, ErrorCode};

use crate::errors::to_napi;
use crate::pool::{pooled, PooledCall};

/// How long the service waits for JS to take one event before going on without it.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(120);

/// An event as the facade receives it: `kind` says which callback; `code`/`message` are set on
/// failures; `bundleName` is the bundle (or the error's `data`).
#[napi(object)]
pub struct SessionEventObject {
    pub kind: String,
    pub bundle_name: Option<String>,
    pub code: Option<i32>,
    pub message: Option<String>,
    pub uri: Option<String>,
    pub fd: Option<i32>,
    pub manifest_fd: Option<i32>,
    pub text: Option<String>,
}

/// A core event on its way to JS. Its fds become JS numbers only when it reaches JS; if it never
/// does (the environment is shutting down) they are closed with it.
pub struct JsEvent(SessionEvent);

fn blank(kind: &str) -> SessionEventObject {
    SessionEventObject {
        kind: kind.into(),
        bundle_name: None,
        code: None,
        message: None,
        uri: None,
        fd: None,
        manifest_fd: None,
        text: None,
    }
}

fn failed(kind: &str, e: Error) -> SessionEventObject {
    SessionEventObject {
        code: Some(e.code().code()),
        message: Some(e.message()),
        bundle_name: e.data().map(str::to_string),
        ..blank(kind)
    }
}

impl ToNapiValue for JsEvent {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let obj = match val.0 {
            SessionEvent::FileReady(Ok(f)) => SessionEventObject {
                bundle_name: Some(f.bundle_name),
                uri: Some(f.uri),
                fd: Some(f.fd.into_raw_fd()),
                manifest_fd: f.manifest_fd.map(IntoRawFd::into_raw_fd),
                ..blank("fileReady")
            },
            SessionEvent::FileReady(Err(e)) => failed("fileReady", e),
            SessionEvent::BundleBegin(Ok(name)) => SessionEventObject {
                bundle_name: Some(name),
                ..blank("bundleBegin")
            },
            SessionEvent::BundleBegin(Err(e)) => failed("bundleBegin", e),
            SessionEvent::BundleEnd(Ok(name)) => SessionEventObject {
                bundle_name: Some(name),
                ..blank("bundleEnd")
            },
            SessionEvent::BundleEnd(Err(e)) => failed("bundleEnd", e),
            SessionEvent::AllBundlesEnd(Ok(())) => blank("allBundlesEnd"),
            SessionEvent::AllBundlesEnd(Err(e)) => failed("allBundlesEnd", e),
            SessionEvent::ServiceDied => blank("serviceDied"),
            SessionEvent::ResultReport { bundle, result } => SessionEventObject {
                bundle_name: Some(bundle),
                text: Some(result),
                ..blank("resultReport")
            },
            SessionEvent::BackupSizeReport(report) => SessionEventObject {
                text: Some(report),
                ..blank("backupSizeReport")
            },
            SessionEvent::Process { bundle, process } => SessionEventObject {
                bundle_name: Some(bundle),
                text: Some(process),
                ..blank("process")
            },
        };
        SessionEventObject::to_napi_value(env, obj)
    }
}

/// The facade's dispatcher function; weak, so a session alone does not keep a script alive (the
/// facade holds the event loop open while work is in flight).
pub type EventFn = ThreadsafeFunction<JsEvent, (), JsEvent, Status, false, true>;

struct NodeSink {
    tsfn: EventFn,
}

impl EventSink for NodeSink {
    fn deliver(&self, event: SessionEvent) {
        let (tx, rx) = mpsc::channel();
        let status = self.tsfn.call_with_return_value(
            JsEvent(event),
            ThreadsafeFunctionCallMode::Blocking,
            move |_ret: Result<()>, _env| {
                let _ = tx.send(());
                Ok(())
            },
        );
        if status == Status::Ok {
            let _ = rx.recv_timeout(DELIVERY_TIMEOUT);
        }
    }
}

/// Runs one core call on libuv's pool and settles a Promise<void>.
pub struct SessionCall(Option<Box<dyn FnOnce() -> ohfile_core::Result<()> + Send>>);

impl Task for SessionCall {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        match self.0.take() {
            Some(f) => f().map_err(to_napi),
            None => Ok(()),
        }
    }

    fn resolve(&mut self, _env: Env, _: ()) -> Result<()> {
        Ok(())
    }
}

fn call(f: impl FnOnce() -> ohfile_core::Result<()> + Send + 'static) -> AsyncTask<SessionCall> {
    AsyncTask::new(SessionCall(Some(Box::new(f))))
}

/// Where and how the service starts extensions (from the facade, which knows its own files).
#[napi(object)]
pub struct ServiceOptions {
    /// The device root; null for the default device.
    pub root: Option<String>,
    /// `node` to run Node-module extensions with.
    pub node_executable: String,
    /// node-binding/lib/extension-host.mjs.
    pub host_script: String,
    /// Shown to a conflicting second session.
    pub caller_name: String,
}

fn service_config(o: &ServiceOptions) -> ServiceConfig {
    let mut c = ServiceConfig::from_env();
    c.extension.node_executable = PathBuf::from(&o.node_executable);
    c.extension.node_host_script = Some(PathBuf::from(&o.host_script));
    c.caller_name = o.caller_name.clone();
    c
}

fn open_device(root: &Option<String>) -> ohfile_core::Result<Device> {
    Device::open(root.as_deref().map(Path::new))
}

/// The native side of SessionBackup and SessionRestore.
#[napi]
pub struct NativeSession {
    session: Arc<Mutex<Option<Arc<Session>>>>,
}

#[napi]
impl NativeSession {
    /// Opens a session of `scenario` ("backup" | "restore"); 13500013 when another holds the device.
    #[napi(constructor)]
    pub fn new(options: ServiceOptions, scenario: String, sink: EventFn) -> Result<Self> {
        let scenario = match scenario.as_str() {
            "backup" => Scenario::Backup,
            "restore" => Scenario::Restore,
            _ => {
                return Err(to_napi(Error::new(
                    ErrorCode::InvalidArgument,
                    "unknown session kind",
                )))
            }
        };
        let device = open_device(&options.root).map_err(to_napi)?;
        let session = Session::new(
            device,
            scenario,
            service_config(&options),
            Arc::new(NodeSink { tsfn: sink }),
        )
        .map_err(to_napi)?;
        Ok(NativeSession {
            session: Arc::new(Mutex::new(Some(Arc::new(session)))),
        })
    }

    fn get(&self) -> ohfile_core::Result<Arc<Session>> {
        self.session
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| Error::new(ErrorCode::InvalidArgument, "the session was released"))
    }

    /// SessionBackup.appendBundles.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn append_backup(
        &self,
        names: Vec<String>,
        infos: Option<Vec<String>>,
    ) -> AsyncTask<SessionCall> {
        let s = self.get();
        call(move || s?.append_backup_bundles(&names, infos.as_deref()))
    }

    /// SessionRestore.appendBundles; the fd is duplicated now (a bad one rejects 13900020).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn append_restore(
        &self,
        fd: i32,
        names: Vec<String>,
        infos: Option<Vec<String>>,
    ) -> AsyncTask<SessionCall> {
        let s = self.get();
        let caps: ohfile_core::Result<File> = capabilities_file_from_fd(fd);
        call(move || s?.append_restore_bundles(&caps?, &names, infos.as_deref()))
    }

    /// SessionRestore.getFileHandle.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn get_file_handle(&self, bundle: String, uri: String) -> AsyncTask<SessionCall> {
        let s = self.get();
        call(move || s?.get_file_handle(&bundle, &uri))
    }

    /// SessionRestore.publishFile.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn publish_file(&self, bundle: String, uri: String) -> AsyncTask<SessionCall> {
        let s = self.get();
        call(move || s?.publish_file(&bundle, &uri))
    }

    /// release(): later calls fail with 13900020.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn release(&self) -> AsyncTask<SessionCall> {
        let taken = self.session.lock().ok().and_then(|mut s| s.take());
        call(move || match taken {
            Some(s) => s.release(),
            None => Err(Error::new(
                ErrorCode::InvalidArgument,
                "the session was already released",
            )),
        })
    }
}

/// One `IncrementalBackupData` as the facade passes it (already validated).
#[napi(object)]
pub struct IncrementalBackupDataObject {
    pub bundle_name: String,
    pub last_incremental_time: i64,
    pub manifest_fd: i32,
    pub parameters: Option<String>,
    pub priority: Option<i64>,
}

/// `{bundleName, lastIncrementalTime}`.
#[napi(object)]
pub struct IncrementalBackupTimeObject {
    pub bundle_name: String,
    pub last_incremental_time: i64,
}

fn times(list: Vec<IncrementalBackupTimeObject>) -> Vec<IncrementalBackupTime> {
    list.into_iter()
        .map(|t| IncrementalBackupTime {
            bundle_name: t.bundle_name,
            last_incremental_time: t.last_incremental_time,
        })
        .collect()
}

#[napi]
impl NativeSession {
    /// IncrementalBackupSession.appendBundles; manifest fds are duplicated now (bad → 13900020).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn append_incremental(
        &self,
        list: Vec<IncrementalBackupDataObject>,
        infos: Option<Vec<String>>,
    ) -> AsyncTask<SessionCall> {
        let s = self.get();
        let data: ohfile_core::Result<Vec<IncrementalBackupData>> = list
            .into_iter()
            .map(|d| {
                let manifest = capabilities_file_from_fd(d.manifest_fd).map_err(|_| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!(
                            "the manifestFd of {} is invalid ({})",
                            d.bundle_name, d.manifest_fd
                        ),
                    )
                })?;
                Ok(IncrementalBackupData {
                    bundle_name: d.bundle_name,
                    last_incremental_time: d.last_incremental_time,
                    manifest,
                    parameters: d.parameters.unwrap_or_default(),
                    priority: d.priority.unwrap_or(-1),
                })
            })
            .collect();
        call(move || s?.append_incremental_bundles(data?, infos.as_deref()))
    }

    /// cancel(bundleName): 0, 13500011 or 13500012.
    #[napi]
    pub fn cancel(&self, bundle: String) -> Result<i32> {
        self.get().and_then(|s| s.cancel(&bundle)).map_err(to_napi)
    }

    /// getLocalCapabilities() of the session → an fd.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn get_local_capabilities(&self) -> AsyncTask<PooledCall<i32>> {
        let s = self.get();
        pooled(move || Ok(s?.local_capabilities()?.into_raw_fd()))
    }

    /// cleanBundleTempDir(bundleName) → boolean (never rejects).
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn clean_bundle_temp_dir(&self, bundle: String) -> AsyncTask<PooledCall<bool>> {
        let s = self.get();
        pooled(move || Ok(s.map(|s| s.clean_bundle_temp_dir(&bundle)).unwrap_or(false)))
    }

    /// getCompatibilityInfo(bundleName, extInfo) → string.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn get_compatibility_info(
        &self,
        bundle: String,
        ext_info: String,
    ) -> AsyncTask<PooledCall<String>> {
        let s = self.get();
        pooled(move || s?.compatibility_info(&bundle, &ext_info))
    }

    /// getBackupDataSize(isPreciseScan, dataList): starts the scan; reports come as events.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn get_backup_data_size(
        &self,
        precise: bool,
        list: Vec<IncrementalBackupTimeObject>,
    ) -> AsyncTask<SessionCall> {
        let s = self.get();
        let list = times(list);
        call(move || s?.get_backup_data_size(precise, list))
    }
}

/// backup.getBackupVersion(): `{"backupVersion" : "…"}`.
#[napi(js_name = "backupGetBackupVersion")]
pub fn backup_get_backup_version() -> String {
    session::backup_version_json()
}

/// backup.updateTimer.
#[napi(js_name = "backupUpdateTimer")]
pub fn backup_update_timer(bundle: String, ms: i64) -> Result<bool> {
    session::update_timer(&bundle, ms).map_err(to_napi)
}

/// backup.updateSendRate.
#[napi(js_name = "backupUpdateSendRate")]
pub fn backup_update_send_rate(bundle: String, rate: i64) -> Result<bool> {
    session::update_send_rate(&bundle, rate).map_err(to_napi)
}

/// backup.getBackupInfo (synchronous, as documented; it starts the app's extension).
#[napi(js_name = "backupGetBackupInfo")]
pub fn backup_get_backup_info(options: ServiceOptions, bundle: String) -> Result<Option<String>> {
    let device = open_device(&options.root).map_err(to_napi)?;
    Ok(session::get_backup_info(
        &device,
        &bundle,
        &service_config(&options),
    ))
}
