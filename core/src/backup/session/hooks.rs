//! Running an app's extension for one bundle: start it, call its hooks under the bundle's timer,
//! poll its progress, release it, and clean its temp data when it dies.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use super::control::BundleCtl;
use super::events::SessionEvent;
use super::progress::spawn_poller;
use super::Inner;
use crate::backup::extension::{Extension, ExtensionHostConfig};
use crate::device::{Device, InstalledApp};
use crate::error::{ErrorCode, Result};

/// The app-visible temp folder the extension gets as `context.backupDir`.
pub const BACKUP_DIR: &str = "data/storage/el2/base/.backup";
/// How long `onRelease` may take.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an extension may take to exit once its stdin is closed.
const EXIT_GRACE: Duration = Duration::from_secs(2);
/// How long `getBackupInfo` may take.
const BACKUP_INFO_TIMEOUT: Duration = Duration::from_secs(5);

/// A bundle's running extension and its progress poller.
pub(crate) struct RunningExtension {
    pub ext: Arc<Extension>,
    poller: Option<JoinHandle<()>>,
}

/// `<sandbox>/data/storage/el2/base/.backup`.
pub fn backup_dir(app: &InstalledApp) -> PathBuf {
    app.sandbox().join(BACKUP_DIR)
}

/// Starts the app's extension (if it has one) and its onProcess poller. A failure is the
/// bundle's onBundleBegin error (13500002 not ready in time, 13500009 could not start).
pub(crate) fn start(
    inner: &Arc<Inner>,
    ctl: &Arc<BundleCtl>,
    app: &InstalledApp,
) -> Result<Option<RunningExtension>> {
    if app.manifest.extension.is_none() {
        return Ok(None);
    }
    let dir = backup_dir(app);
    fs::create_dir_all(&dir)
        .map_err(|e| crate::error::Error::io(&e, format!("cannot create {}", dir.display())))?;
    let ext = Arc::new(Extension::start(app, &inner.config.extension)?);
    ctl.set_running(Some(ext.clone()));
    let emitter = inner.clone();
    let bundle = ctl.name.clone();
    let poller = spawn_poller(ext.clone(), ctl.clone(), move |process| {
        emitter.emit(SessionEvent::Process {
            bundle: bundle.clone(),
            process,
        })
    });
    Ok(Some(RunningExtension { ext, poller }))
}

/// Calls a hook with what is left of the bundle's timer; when the timer (or a release) stopped
/// the bundle meanwhile, that is the error, whatever the killed extension answered.
pub(crate) fn call(
    running: &RunningExtension,
    ctl: &BundleCtl,
    method: &str,
    args: Vec<Value>,
) -> Result<Value> {
    ctl.check()?;
    let r = running.ext.call(method, args, ctl.remaining());
    ctl.check()?;
    r
}

/// Calls the `*Ex` hook, falling back to the plain one when it returns nothing. Returns the text
/// for onResultReport (empty when there is none).
pub(crate) fn call_with_fallback(
    running: &RunningExtension,
    ctl: &BundleCtl,
    ex: (&str, Vec<Value>),
    plain: (&str, Vec<Value>),
) -> Result<String> {
    let text = match call(running, ctl, ex.0, ex.1)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if text.is_empty() {
        call(running, ctl, plain.0, plain.1)?;
    }
    Ok(text)
}

/// Ends the extension: onRelease(scenario) (best effort, 5 s), stop polling, let it exit.
pub(crate) fn finish(running: Option<RunningExtension>, ctl: &BundleCtl, scenario: u8) {
    let Some(mut running) = running else { return };
    if ctl.check().is_ok() && running.ext.is_alive() {
        let _ = running
            .ext
            .call("onRelease", vec![Value::from(scenario)], RELEASE_TIMEOUT);
    }
    ctl.finish();
    if let Some(p) = running.poller.take() {
        let _ = p.join();
    }
    match Arc::try_unwrap(running.ext) {
        Ok(ext) => ext.shutdown(EXIT_GRACE),
        Err(shared) => drop(shared), // the last holder's Drop kills and reaps it
    }
}

/// Removes the app's temp data (after its extension died, or when the client asked for it).
pub(crate) fn clean_temp(app: &InstalledApp, sub: &str) {
    let _ = fs::remove_dir_all(backup_dir(app).join(sub));
    let _ = fs::remove_dir(backup_dir(app)); // only when nothing else is left in it
}

/// Whether an error means the extension process died (its temp data must be cleaned).
pub(crate) fn died(e: &crate::error::Error) -> bool {
    e.code() == ErrorCode::ExtensionDied
}

/// backup.getBackupInfo: start the extension, ask, stop it.
pub(crate) fn backup_info(
    device: &Device,
    bundle: &str,
    cfg: &ExtensionHostConfig,
) -> Option<String> {
    let app = device.app(bundle).ok()?;
    app.manifest.extension.as_ref()?;
    let _ = fs::create_dir_all(backup_dir(&app));
    let ext = Extension::start(&app, cfg).ok()?;
    let answer = ext.call("getBackupInfo", vec![], BACKUP_INFO_TIMEOUT);
    ext.shutdown(EXIT_GRACE);
    match answer.ok()? {
        Value::String(s) => Some(s),
        Value::Null => Some(String::new()),
        other => Some(other.to_string()),
    }
}
