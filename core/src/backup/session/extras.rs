//! The session methods newer OpenHarmony releases added (API 18–20): cancel, the session's own
//! capability file, temp-dir cleaning, compatibility info and the backup data-size scan; and the
//! module-level getBackupVersion.

use std::fs::File;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

use super::control::Stop;
use super::events::SessionEvent;
use super::hooks;
use super::{Inner, Scenario, Session};
use crate::backup::capabilities::{
    write_session_capabilities, IncrementalBackupTime, BACKUP_VERSION,
};
use crate::backup::extension::Extension;
use crate::backup::scan::scan;
use crate::error::{Error, ErrorCode, Result};

/// How long a compatibility hook may take before the answer is "".
const COMPATIBILITY_TIMEOUT: Duration = Duration::from_secs(1);
/// How often getBackupDataSize reports while it scans.
const SIZE_REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// `backup.getBackupVersion()`: the JSON text OpenHarmony returns, `{"backupVersion" : "…"}`.
pub fn backup_version_json() -> String {
    format!("{{\"backupVersion\" : \"{BACKUP_VERSION}\"}}")
}

impl Inner {
    fn check_alive(&self) -> Result<()> {
        if self.died.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::IpcError,
                "the backup service of this session died; create a new session",
            ));
        }
        if self.released.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the session was released",
            ));
        }
        Ok(())
    }
}

impl Session {
    /// `cancel(bundleName)`: 0 when a running bundle was cancelled (it then ends with
    /// onBundleEnd(undefined, name)), 13500011 when it has not started yet, 13500012 when it is
    /// not in the session.
    pub fn cancel(&self, bundle: &str) -> Result<i32> {
        self.inner.check_alive()?;
        let ctl = self.inner.state().bundles.get(bundle).cloned();
        Ok(match ctl {
            None => ErrorCode::CancelNoTask.code(),
            Some(ctl) if ctl.is_running() => {
                ctl.stop(Stop::Cancelled);
                if let Some(inbox) = self.inner.state().inboxes.get(bundle) {
                    inbox.cond.notify_all();
                }
                0
            }
            Some(_) => ErrorCode::CancelUnstartedTask.code(),
        })
    }

    /// `getLocalCapabilities()` of a session: the bundles that allow backup, no backupVersion.
    pub fn local_capabilities(&self) -> Result<File> {
        self.inner.check_alive()?;
        write_session_capabilities(&self.inner.device)
    }

    /// `cleanBundleTempDir(bundleName)`: removes the app's backup/restore temp folders; false when
    /// the bundle is unknown or the session is gone.
    pub fn clean_bundle_temp_dir(&self, bundle: &str) -> bool {
        if self.inner.check_alive().is_err() {
            return false;
        }
        match self.inner.device.app(bundle) {
            Ok(app) => {
                hooks::clean_temp(&app, "backup");
                hooks::clean_temp(&app, "restore");
                !hooks::backup_dir(&app).join("backup").exists()
                    && !hooks::backup_dir(&app).join("restore").exists()
            }
            Err(_) => false,
        }
    }

    /// `getCompatibilityInfo(bundleName, extInfo)`: what the app's extension answers from
    /// getBackupCompatibilityInfo (backup sessions) or getRestoreCompatibilityInfo (restore
    /// sessions) within 1 s; "" when it has none, fails or is late.
    pub fn compatibility_info(&self, bundle: &str, ext_info: &str) -> Result<String> {
        self.inner.check_alive()?;
        let Ok(app) = self.inner.device.app(bundle) else {
            return Ok(String::new());
        };
        if app.manifest.extension.is_none() {
            return Ok(String::new());
        }
        let _ = std::fs::create_dir_all(hooks::backup_dir(&app));
        let Ok(ext) = Extension::start(&app, &self.inner.config.extension) else {
            return Ok(String::new());
        };
        let method = match self.inner.scenario {
            Scenario::Backup => "getBackupCompatibilityInfo",
            Scenario::Restore => "getRestoreCompatibilityInfo",
        };
        let answer = ext.call(method, vec![Value::from(ext_info)], COMPATIBILITY_TIMEOUT);
        ext.shutdown(Duration::from_millis(500));
        Ok(match answer {
            Ok(Value::String(s)) => s,
            _ => String::new(),
        })
    }

    /// `getBackupDataSize(isPreciseScan, dataList)`: starts a scan of the listed bundles and
    /// returns; `onBackupSizeReport` tells `{"scaned":[…],"scanning":"…"}` every 5 s and once at the
    /// end. `dataSize` is the bytes the profile selects; `incDataSize` the bytes changed since
    /// `lastIncrementalTime` (precise scans; −1 in an estimate); −1 for unknown bundles. A second
    /// scan while one runs is 13900020.
    pub fn get_backup_data_size(
        &self,
        precise: bool,
        list: Vec<IncrementalBackupTime>,
    ) -> Result<()> {
        self.inner.check_usable(Scenario::Backup)?;
        if self.inner.scanning.swap(true, Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "a backup data size scan is already running",
            ));
        }
        let inner = self.inner.clone();
        let spawned = thread::Builder::new()
            .name("ohfile-size-scan".into())
            .spawn(move || {
                size_scan(&inner, precise, &list);
                inner.scanning.store(false, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            self.inner.scanning.store(false, Ordering::SeqCst);
            return Err(Error::io(&e, "cannot start the size scan"));
        }
        Ok(())
    }
}

#[derive(Default)]
struct SizeProgress {
    scanned: Vec<Value>,
    scanning: String,
    done: bool,
}

fn report(p: &SizeProgress) -> String {
    json!({"scaned": p.scanned, "scanning": p.scanning}).to_string()
}

fn size_scan(inner: &Arc<Inner>, precise: bool, list: &[IncrementalBackupTime]) {
    let progress = Arc::new((Mutex::new(SizeProgress::default()), Condvar::new()));
    let reporter = {
        let (progress, inner) = (progress.clone(), inner.clone());
        thread::Builder::new()
            .name("ohfile-size-report".into())
            .spawn(move || {
                let (lock, cond) = &*progress;
                let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    p = cond
                        .wait_timeout(p, SIZE_REPORT_INTERVAL)
                        .map(|r| r.0)
                        .unwrap_or_else(|e| e.into_inner().0);
                    if p.done {
                        return;
                    }
                    let text = report(&p);
                    drop(p);
                    inner.emit(SessionEvent::BackupSizeReport(text));
                    p = lock.lock().unwrap_or_else(|e| e.into_inner());
                }
            })
    };
    for item in list {
        if !inner.live() {
            break;
        }
        progress
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .scanning = item.bundle_name.clone();
        let (data, inc) = match inner.device.app(&item.bundle_name) {
            Err(_) => (-1i64, -1i64),
            Ok(app) if !app.config.allow_to_backup_restore => (0, 0),
            Ok(app) => {
                let (mut data, mut inc) = (0i64, 0i64);
                let since = item.last_incremental_time.max(0);
                let walked = scan(
                    &app.sandbox(),
                    &app.config.includes,
                    &app.config.excludes,
                    |e| {
                        data += e.size as i64;
                        if since == 0 || e.mtime.0 > since {
                            inc += e.size as i64;
                        }
                        Ok(())
                    },
                );
                match walked {
                    Ok(()) if precise => (data, inc),
                    Ok(()) => (data, -1),
                    Err(_) => (-1, -1),
                }
            }
        };
        let mut p = progress.0.lock().unwrap_or_else(|e| e.into_inner());
        p.scanned
            .push(json!({"bundleName": item.bundle_name, "dataSize": data, "incDataSize": inc}));
    }
    let last = {
        let mut p = progress.0.lock().unwrap_or_else(|e| e.into_inner());
        p.scanning.clear();
        p.done = true;
        report(&p)
    };
    progress.1.notify_all();
    if let Ok(r) = reporter {
        let _ = r.join();
    }
    inner.emit(SessionEvent::BackupSizeReport(last));
}
