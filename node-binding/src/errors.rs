//! Core errors cross into JS as a tagged JSON reason; `lib/errors.js` rebuilds them as
//! BusinessError objects with a numeric `code` (napi's own `code` is always a string).

use napi::Status;
use ohfile_core::Error;

/// The tag the facade looks for at the start of a native error message.
pub const TAG: &str = "\u{1}ohfile:";

/// A core error as a napi error whose reason carries `{code, message, data}`.
pub fn to_napi(e: Error) -> napi::Error {
    let payload =
        serde_json::json!({ "code": e.code().code(), "message": e.message(), "data": e.data() });
    napi::Error::new(Status::GenericFailure, format!("{TAG}{payload}"))
}
