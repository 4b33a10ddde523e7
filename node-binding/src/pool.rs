//! One core call run on libuv's thread pool, settling a Promise with its value: how every
//! asynchronous method of the addon keeps blocking work off the JS thread.

use napi::bindgen_prelude::*;
use napi::Task;
use ohfile_core::{Error, ErrorCode};

use crate::errors::to_napi;

/// The call, taken by `compute` (so it runs at most once).
pub struct PooledCall<T: Send + ToNapiValue + TypeName + 'static>(
    Option<Box<dyn FnOnce() -> ohfile_core::Result<T> + Send>>,
);

impl<T: Send + ToNapiValue + TypeName + 'static> Task for PooledCall<T> {
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        match self.0.take() {
            Some(f) => f().map_err(to_napi),
            None => Err(to_napi(Error::new(
                ErrorCode::UnknownError,
                "a pooled call ran twice",
            ))),
        }
    }

    fn resolve(&mut self, _env: Env, v: T) -> Result<T> {
        Ok(v)
    }
}

/// Runs `f` on the pool; the returned task becomes a Promise in JS.
pub fn pooled<T: Send + ToNapiValue + TypeName + 'static>(
    f: impl FnOnce() -> ohfile_core::Result<T> + Send + 'static,
) -> AsyncTask<PooledCall<T>> {
    AsyncTask::new(PooledCall(Some(Box::new(f))))
}
