//! `onProcess`: the app's progress, polled from its extension (first call with 15 s to answer,
//! then every 5 s with 1 s), and the service's own error reports in the same shape.

use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::control::{BundleCtl, Stop};
use crate::backup::extension::Extension;
use crate::error::{Error, ErrorCode};

const FIRST_CALL_TIMEOUT: Duration = Duration::from_secs(15);
const POLL_INTERVAL: Duration = Duration::from_secs(5);
const POLL_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_STRIKES: u32 = 3;

fn now_secs() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string()
}

/// `{"processResult":{"timeInfo":"<secs>","resultInfo":"<app text>"}}`.
pub fn process_result(result_info: &str) -> String {
    serde_json::to_string_pretty(
        &json!({"processResult": {"timeInfo": now_secs(), "resultInfo": result_info}}),
    )
    .unwrap_or_default()
}

/// `{"processResult":{"timeInfo":…,"errorInfo":{"errorCode":"<n>","errorMessage":"<path: why>"}}}`.
pub fn process_error(code: ErrorCode, message: &str) -> String {
    serde_json::to_string_pretty(&json!({"processResult": {"timeInfo": now_secs(), "errorInfo": {"errorCode": code.code().to_string(), "errorMessage": message}}}))
        .unwrap_or_default()
}

/// `{"resultInfo":{"errorCode":n,"errorInfo":"<msg>","type":"ErrorInfo"}}`: what `onResultReport`
/// carries when an app hook failed.
pub fn error_report(err: &Error) -> String {
    json!({"resultInfo": {"errorCode": err.code().code(), "errorInfo": err.detail(), "type": "ErrorInfo"}}).to_string()
}

/// Polls the extension's `onProcess` until the bundle finishes, the app returns "" or it stops
/// answering (first call, or three in a row → the bundle times out).
pub fn spawn_poller(
    ext: Arc<Extension>,
    ctl: Arc<BundleCtl>,
    emit: impl Fn(String) + Send + 'static,
) -> Option<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("ohfile-progress-{}", ctl.name))
        .spawn(move || {
            let mut first = true;
            let mut strikes = 0;
            loop {
                let timeout = if first {
                    FIRST_CALL_TIMEOUT
                } else {
                    POLL_TIMEOUT
                };
                match ext.call("onProcess", vec![], timeout) {
                    Ok(Value::String(s)) if s.is_empty() => return,
                    Ok(Value::String(s)) => {
                        strikes = 0;
                        emit(process_result(&s));
                    }
                    Ok(Value::Null) => return, // the app has no onProcess
                    Ok(other) => emit(process_result(&other.to_string())),
                    Err(e) if e.code() == ErrorCode::ExtensionTimeout => {
                        strikes += 1;
                        if first || strikes >= MAX_STRIKES {
                            ctl.stop(Stop::TimedOut);
                            return;
                        }
                    }
                    Err(_) => return, // died or threw: the worker reports that
                }
                first = false;
                if !ctl.sleep(POLL_INTERVAL) {
                    return;
                }
            }
        })
        .ok()
}
