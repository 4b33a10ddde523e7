//! Tests against real child processes: the extensions in `tests/fixtures/extensions/` (Python
//! `exec` extensions and Node modules run by `node-binding/lib/extension-host.mjs`).

mod behaviours;
mod exec;
mod lifecycle;
mod node;

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use super::{Extension, ExtensionHostConfig};
use crate::backup::config::BackupConfig;
use crate::device::app::{BundleManifest, ExtensionLaunch, ExtensionSpec, InstalledApp};
use crate::error::{ErrorCode, Result};

/// A generous call timeout for hooks that should answer.
const CALL: Duration = Duration::from_secs(10);

/// Tests counting this process's fds take it for writing; tests that start extensions take it for
/// reading, so they do not run during a count.
static FD_COUNT: RwLock<()> = RwLock::new(());

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/extensions").join(name)
}

/// An installed app in a temp dir whose extension is started with `launch`.
struct TestApp {
    app: InstalledApp,
    _dir: TempDir,
}

impl TestApp {
    fn new(launch: ExtensionLaunch) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let app = InstalledApp {
            name: "com.example.ext".into(),
            dir: dir.path().to_path_buf(),
            manifest: BundleManifest {
                version_code: 1,
                version_name: "1.0.0".into(),
                extension: Some(ExtensionSpec {
                    name: "BackupExtensionAbility".into(),
                    launch,
                }),
            },
            config: BackupConfig::default(),
        };
        TestApp { app, _dir: dir }
    }

    /// A Python fixture run with `python3`.
    fn python(script: &str) -> TestApp {
        let path = fixture(script).to_string_lossy().into_owned();
        TestApp::new(ExtensionLaunch::Exec(vec!["python3".into(), path]))
    }

    /// A shell command.
    fn sh(script: &str) -> TestApp {
        TestApp::new(ExtensionLaunch::Exec(vec![
            "sh".into(),
            "-c".into(),
            script.into(),
        ]))
    }

    /// A Node module fixture run by the extension host.
    fn node(module: &str) -> TestApp {
        let path = fixture("node").join(module).to_string_lossy().into_owned();
        TestApp::new(ExtensionLaunch::NodeModule(path))
    }

    fn start(&self) -> Result<Extension> {
        self.start_with(Duration::from_secs(20))
    }

    fn start_with(&self, start_timeout: Duration) -> Result<Extension> {
        let cfg = ExtensionHostConfig {
            node_host_script: Some(repo().join("node-binding/lib/extension-host.mjs")),
            start_timeout,
            ..ExtensionHostConfig::default()
        };
        Extension::start(&self.app, &cfg)
    }

    fn sandbox_file(&self, name: &str) -> PathBuf {
        self.app.sandbox().join(name)
    }

    /// The pid the fixture wrote to `<sandbox>/<name>`, waiting up to 5 s for it.
    fn recorded_pid(&self, name: &str) -> u32 {
        let path = self.sandbox_file(name);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(pid) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "{} never appeared",
                path.display()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Whether `pid` is gone as our child: reaped (no longer in /proc) or now someone else's.
fn reaped(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => parent_of(&stat) != Some(std::process::id()),
    }
}

/// Whether `pid` no longer runs (gone, or a zombie waiting for its new parent), within 3 s.
fn ends_soon(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat) if state_of(&stat) == Some('Z') => return true,
            Ok(_) if Instant::now() >= deadline => return false,
            Ok(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Fields after `pid (comm)`: state, ppid, …
fn after_comm(stat: &str) -> Vec<&str> {
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default()
}

fn state_of(stat: &str) -> Option<char> {
    after_comm(stat).first().and_then(|s| s.chars().next())
}

fn parent_of(stat: &str) -> Option<u32> {
    after_comm(stat).get(1).and_then(|s| s.parse().ok())
}

/// Parses a hook's string result as JSON.
fn json_of(v: &Value) -> Value {
    serde_json::from_str(v.as_str().expect("a string result")).expect("a JSON string")
}

#[track_caller]
fn assert_code<T: std::fmt::Debug>(r: Result<T>, code: ErrorCode, needle: &str) {
    let e = r.expect_err("an error");
    assert_eq!(e.code(), code, "{e}");
    assert!(e.message().contains(needle), "{e} lacks {needle:?}");
    assert_eq!(e.data(), Some("com.example.ext"));
}
