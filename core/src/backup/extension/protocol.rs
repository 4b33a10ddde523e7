//! The line protocol between the service and an extension: one UTF-8 JSON object per line
//! (`docs/extension-protocol.md`).

use serde_json::{json, Map, Value};

/// `onBackup()`: build the files to back up.
pub const ON_BACKUP: &str = "onBackup";
/// `onBackupEx(backupInfo: string) → string`: like `onBackup`, with the caller's info and a result.
pub const ON_BACKUP_EX: &str = "onBackupEx";
/// `onRestore(bundleVersion)`: restore from data of that version.
pub const ON_RESTORE: &str = "onRestore";
/// `onRestoreEx(bundleVersion, restoreInfo: string) → string`: like `onRestore`, with a result.
pub const ON_RESTORE_EX: &str = "onRestoreEx";
/// `onProcess() → string`: the app's progress, polled while a hook runs.
pub const ON_PROCESS: &str = "onProcess";
/// `getBackupInfo() → string`: app-defined information for `backup.getBackupInfo`.
pub const GET_BACKUP_INFO: &str = "getBackupInfo";
/// `onRelease(scenario)`: clean up before the extension is stopped.
pub const ON_RELEASE: &str = "onRelease";
/// `getBackupCompatibilityInfo(extInfo: string) → string`.
pub const GET_BACKUP_COMPATIBILITY_INFO: &str = "getBackupCompatibilityInfo";
/// `getRestoreCompatibilityInfo(extInfo: string) → string`.
pub const GET_RESTORE_COMPATIBILITY_INFO: &str = "getRestoreCompatibilityInfo";

/// Every hook an extension may be asked to run.
pub const HOOKS: [&str; 9] = [
    ON_BACKUP,
    ON_BACKUP_EX,
    ON_RESTORE,
    ON_RESTORE_EX,
    ON_PROCESS,
    GET_BACKUP_INFO,
    ON_RELEASE,
    GET_BACKUP_COMPATIBILITY_INFO,
    GET_RESTORE_COMPATIBILITY_INFO,
];

/// `onRelease` scenario: the extension ran a backup.
pub const SCENARIO_BACKUP: i64 = 1;
/// `onRelease` scenario: the extension ran a restore.
pub const SCENARIO_RESTORE: i64 = 2;

/// The error code an extension answers for a method it does not know (EINVAL).
pub const UNKNOWN_METHOD_CODE: i64 = 13900020;

/// The `BundleVersion` argument of `onRestore`/`onRestoreEx`.
pub fn bundle_version(code: u64, name: &str) -> Value {
    json!({ "code": code, "name": name })
}

/// A request from the service.
#[derive(Clone, Debug, PartialEq)]
pub struct Request<'a> {
    /// Unique per extension; the reply carries it back.
    pub id: u64,
    /// The hook name.
    pub method: &'a str,
    /// The hook's arguments.
    pub args: &'a [Value],
}

impl Request<'_> {
    /// The request as one line, newline included.
    pub fn encode(&self) -> String {
        let mut line =
            json!({ "id": self.id, "method": self.method, "args": self.args }).to_string();
        line.push('\n');
        line
    }
}

/// An error reply: the hook threw (or the method is unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookError {
    /// The thrown message.
    pub message: String,
    /// The optional numeric code.
    pub code: Option<i64>,
}

/// A message from the extension.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// `{"ready":true}`: the extension is loaded and serving.
    Ready,
    /// `{"id":N,"result":…}` or `{"id":N,"error":{…}}`.
    Reply {
        /// The id of the request answered.
        id: u64,
        /// The hook's value (`null` for none) or its error.
        outcome: Result<Value, HookError>,
    },
}

/// Decodes one line (without its newline); the error says what is wrong with it.
pub fn decode(line: &str) -> Result<Message, String> {
    let value: Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {}", excerpt(line)))?;
    let Value::Object(obj) = value else {
        return Err(format!("not a JSON object: {}", excerpt(line)));
    };
    if obj.get("ready") == Some(&Value::Bool(true)) && !obj.contains_key("id") {
        return Ok(Message::Ready);
    }
    let id = match obj.get("id") {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("\"id\" is not a non-negative integer: {}", excerpt(line)))?,
        _ => {
            return Err(format!(
                "neither a ready line nor a reply: {}",
                excerpt(line)
            ))
        }
    };
    let outcome = match (obj.get("result"), obj.get("error")) {
        (Some(result), None) => Ok(result.clone()),
        (None, Some(Value::Object(err))) => Err(hook_error(err)),
        (None, Some(Value::Null)) => Err(hook_error(&Map::new())),
        _ => {
            return Err(format!(
                "a reply needs exactly one of \"result\" and \"error\" (an object): {}",
                excerpt(line)
            ))
        }
    };
    Ok(Message::Reply { id, outcome })
}

fn hook_error(err: &Map<String, Value>) -> HookError {
    let message = match err.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "the extension reported an error without a message".into(),
        Some(other) => other.to_string(),
    };
    HookError {
        message,
        code: err.get("code").and_then(Value::as_i64),
    }
}

/// The start of a long line, for messages.
fn excerpt(line: &str) -> String {
    const MAX: usize = 200;
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_one_line_with_id_method_args() {
        let args = [bundle_version(7, "1.0\n"), json!("info")];
        let line = Request {
            id: 3,
            method: ON_RESTORE_EX,
            args: &args,
        }
        .encode();
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            json!({"id": 3, "method": "onRestoreEx", "args": [{"code": 7, "name": "1.0\n"}, "info"]})
        );
    }

    #[test]
    fn decodes_ready_results_and_errors() {
        assert_eq!(decode(r#"{"ready":true}"#), Ok(Message::Ready));
        assert_eq!(
            decode(r#"{"id":4,"result":null}"#),
            Ok(Message::Reply {
                id: 4,
                outcome: Ok(Value::Null)
            })
        );
        assert_eq!(
            decode(r#"{"id":5,"result":"{\"a\":1}"}"#),
            Ok(Message::Reply {
                id: 5,
                outcome: Ok(json!("{\"a\":1}"))
            })
        );
        assert_eq!(
            decode(r#"{"id":6,"error":{"message":"boom","code":13900020}}"#),
            Ok(Message::Reply {
                id: 6,
                outcome: Err(HookError {
                    message: "boom".into(),
                    code: Some(13900020)
                })
            })
        );
        let Ok(Message::Reply {
            outcome: Err(e), ..
        }) = decode(r#"{"id":7,"error":{}}"#)
        else {
            panic!("error reply expected");
        };
        assert!(e.message.contains("without a message"));
    }

    #[test]
    fn rejects_what_is_not_a_message() {
        for (line, needle) in [
            ("hello", "not JSON"),
            ("[1]", "not a JSON object"),
            (r#"{"ready":false}"#, "neither"),
            (r#"{"id":-1,"result":1}"#, "non-negative"),
            (r#"{"id":1}"#, "exactly one"),
            (r#"{"id":1,"result":1,"error":{}}"#, "exactly one"),
            (r#"{"id":1,"error":"x"}"#, "exactly one"),
        ] {
            let err = decode(line).unwrap_err();
            assert!(err.contains(needle), "{line}: {err}");
        }
        let long = "x".repeat(1000);
        assert!(decode(&long).unwrap_err().len() < 400);
    }
}
