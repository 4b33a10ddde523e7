//! The napi-rs addon behind the `ohfile` npm package. It only translates: arguments in, core
//! results out, core errors into a form the JS facade turns into BusinessError objects.
//! Blocking work runs on libuv's pool (AsyncTask), never on the JS thread.

pub mod asset;
pub mod cloudsync;
mod errors;
mod pool;
pub mod session;

use std::os::fd::IntoRawFd;
use std::path::Path;

use napi::bindgen_prelude::*;
use napi::Task;
use napi_derive::napi;
use ohfile_core::{backup, Device, ErrorCode};

/// `{ bundleName, lastIncrementalTime }` (seconds), as `getLocalCapabilities(dataList)` takes it.
#[napi(object)]
pub struct IncrementalBackupTime {
    /// The bundle.
    pub bundle_name: String,
    /// The time of its last incremental backup, in Unix seconds.
    pub last_incremental_time: i64,
}

/// Writes the capability file and hands back an fd the caller closes.
pub struct CapabilitiesTask {
    root: Option<String>,
    data_list: Option<Vec<backup::IncrementalBackupTime>>,
}

impl Task for CapabilitiesTask {
    type Output = i32;
    type JsValue = i32;

    fn compute(&mut self) -> Result<i32> {
        let device = Device::open(self.root.as_deref().map(Path::new)).map_err(errors::to_napi)?;
        let file = match &self.data_list {
            None => backup::write_local_capabilities(&device),
            Some(list) => backup::write_incremental_capabilities(&device, list),
        }
        .map_err(errors::to_napi)?;
        Ok(file.into_raw_fd())
    }

    fn resolve(&mut self, _env: Env, fd: i32) -> Result<i32> {
        Ok(fd)
    }
}

/// backup.getLocalCapabilities([dataList]) for the device at `root` (null: the default device).
#[napi(js_name = "backupGetLocalCapabilities")]
pub fn backup_get_local_capabilities(
    root: Option<String>,
    data_list: Option<Vec<IncrementalBackupTime>>,
) -> AsyncTask<CapabilitiesTask> {
    let data_list = data_list.map(|l| {
        l.into_iter()
            .map(|t| backup::IncrementalBackupTime {
                bundle_name: t.bundle_name,
                last_incremental_time: t.last_incremental_time,
            })
            .collect()
    });
    AsyncTask::new(CapabilitiesTask { root, data_list })
}

/// Every public error code with its documented message: `[[code, message], ...]`. The facade
/// builds its own argument errors (401, 13900020) from this, so messages have one source.
#[napi(js_name = "errorMessages")]
pub fn error_messages() -> Vec<(i32, String)> {
    ErrorCode::ALL
        .iter()
        .map(|c| (c.code(), c.message().to_string()))
        .collect()
}

/// The public code of an errno value (13900001..13900042).
#[napi(js_name = "codeForErrno")]
pub fn code_for_errno(errno: i32) -> i32 {
    ohfile_core::error::code_for_errno(errno).code()
}

/// The core version.
#[napi(js_name = "version")]
pub fn version() -> String {
    ohfile_core::VERSION.to_string()
}
