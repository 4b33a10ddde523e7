//! Reading the device's JSON files with errors that name the file and the problem.

use std::fs;
use std::io;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};

/// Reads and parses `path`. `Ok(None)` when the file does not exist; a syntax error is a
/// 13900020 naming the file, line and column; an unreadable file maps its errno.
pub fn read_json_file(path: &Path) -> Result<Option<Value>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&e, format!("cannot read {}", path.display()))),
    };
    parse_json_bytes(&bytes, path).map(Some)
}

/// Parses JSON text that came from `origin` (used in the error message).
pub fn parse_json_bytes(bytes: &[u8], origin: &Path) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{} is not valid JSON: {e}", origin.display()),
        )
    })
}

/// Reads `path` expecting a JSON object (or no file).
pub fn read_json_object(path: &Path) -> Result<Option<serde_json::Map<String, Value>>> {
    match read_json_file(path)? {
        None => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{} must hold a JSON object, not {}",
                path.display(),
                json_kind(&other)
            ),
        )),
    }
}

/// A short name of a JSON value's type, for messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
