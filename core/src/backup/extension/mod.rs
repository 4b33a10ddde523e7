//! App backup extensions: child processes spoken to over a line protocol.
//!
//! The service starts an app's `BackupExtensionAbility` as a child process per bundle (an `exec`
//! command, or a Node module run by `node-binding/lib/extension-host.mjs`) and calls its hooks as
//! JSON lines on its stdin/stdout, so the documented failures are real ones: it does not start in
//! time (13500002), does not answer in time (13500003), dies (13500004), throws (13500007).
//! The wire format is described in `docs/extension-protocol.md`.

mod config;
mod launch;
mod lines;
mod process;
pub mod protocol;
mod replies;
mod stdin;

#[cfg(test)]
mod tests;

pub use config::{ExtensionHostConfig, DEFAULT_START_TIMEOUT, START_TIMEOUT_ENV};
pub use launch::BACKUP_DIR_IN_SANDBOX;
pub use process::{Extension, SHUTDOWN_GRACE};
