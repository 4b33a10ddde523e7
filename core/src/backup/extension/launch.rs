//! The command line, environment and working directory an app's extension is started with.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::config::ExtensionHostConfig;
use crate::device::app::{ExtensionLaunch, InstalledApp};
use crate::error::{Error, ErrorCode, Result};

/// Where `context.backupDir` lives inside the sandbox (OpenHarmony's el2 backup dir).
pub const BACKUP_DIR_IN_SANDBOX: &str = "data/storage/el2/base/.backup";

/// Everything needed to spawn one extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchPlan {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The working directory (the app dir, absolute).
    pub cwd: PathBuf,
    /// Variables added to the inherited environment.
    pub env: Vec<(&'static str, OsString)>,
}

impl LaunchPlan {
    /// Works out how to start `app`'s extension and creates its backup dir.
    pub fn for_app(app: &InstalledApp, cfg: &ExtensionHostConfig) -> Result<LaunchPlan> {
        let boot_failed = |detail: String| {
            Error::new(ErrorCode::ExtensionBootFailed, detail).with_data(app.name.as_str())
        };
        let Some(spec) = &app.manifest.extension else {
            return Err(boot_failed(format!(
                "{} has no backup extension in its bundle.json",
                app.name
            )));
        };
        let cwd = absolute(&app.dir).map_err(|e| boot_failed(e.to_string()))?;
        let (program, args) = match &spec.launch {
            ExtensionLaunch::Exec(argv) => {
                let Some((first, rest)) = argv.split_first() else {
                    return Err(boot_failed("the extension's \"exec\" is empty".into()));
                };
                (
                    program_path(&cwd, first),
                    rest.iter().map(OsString::from).collect(),
                )
            }
            ExtensionLaunch::NodeModule(module) => {
                let Some(host) = &cfg.node_host_script else {
                    return Err(boot_failed(format!(
                        "{} is a Node module extension but no Node extension host script is configured",
                        app.name
                    )));
                };
                if !host.is_file() {
                    return Err(boot_failed(format!(
                        "the Node extension host script {} does not exist",
                        host.display()
                    )));
                }
                let host = absolute(host).map_err(|e| boot_failed(e.to_string()))?;
                (
                    cfg.node_executable.clone(),
                    vec![host.into_os_string(), cwd.join(module).into_os_string()],
                )
            }
        };
        let sandbox = absolute(&app.sandbox()).map_err(|e| boot_failed(e.to_string()))?;
        let backup_dir = sandbox.join(BACKUP_DIR_IN_SANDBOX);
        std::fs::create_dir_all(&backup_dir)
            .map_err(|e| boot_failed(format!("cannot create {}: {e}", backup_dir.display())))?;
        // OpenHarmony's backupDir ends with '/', and apps concatenate onto it.
        let mut backup_dir = backup_dir.into_os_string();
        backup_dir.push("/");
        Ok(LaunchPlan {
            program,
            args,
            cwd,
            env: vec![
                ("OHFILE_BUNDLE", OsString::from(&app.name)),
                ("OHFILE_SANDBOX", sandbox.into_os_string()),
                ("OHFILE_BACKUP_DIR", backup_dir),
            ],
        })
    }
}

/// A relative program path with a '/' is the app's own file; a bare name is looked up on PATH.
fn program_path(app_dir: &Path, program: &str) -> PathBuf {
    let p = Path::new(program);
    if p.is_relative() && program.contains('/') {
        app_dir.join(p)
    } else {
        p.to_path_buf()
    }
}

fn absolute(p: &Path) -> std::io::Result<PathBuf> {
    std::path::absolute(p)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::config::BackupConfig;
    use crate::device::app::{BundleManifest, ExtensionSpec};

    fn app(dir: &Path, launch: Option<ExtensionLaunch>) -> InstalledApp {
        InstalledApp {
            name: "com.example.a".into(),
            dir: dir.to_path_buf(),
            manifest: BundleManifest {
                version_code: 1,
                version_name: "1.0".into(),
                extension: launch.map(|launch| ExtensionSpec {
                    name: "BackupExtensionAbility".into(),
                    launch,
                }),
            },
            config: BackupConfig::default(),
        }
    }

    #[test]
    fn exec_plan_has_env_cwd_and_a_backup_dir() {
        let t = tempfile::tempdir().unwrap();
        let a = app(
            t.path(),
            Some(ExtensionLaunch::Exec(vec![
                "./bin/ext".into(),
                "--flag".into(),
            ])),
        );
        let plan = LaunchPlan::for_app(&a, &ExtensionHostConfig::default()).unwrap();
        assert_eq!(plan.program, t.path().join("bin/ext"));
        assert_eq!(plan.args, vec![OsString::from("--flag")]);
        assert_eq!(plan.cwd, t.path());
        let backup_dir = t.path().join("sandbox/data/storage/el2/base/.backup");
        assert!(backup_dir.is_dir());
        let mut want_backup = backup_dir.into_os_string();
        want_backup.push("/");
        assert_eq!(
            plan.env,
            vec![
                ("OHFILE_BUNDLE", OsString::from("com.example.a")),
                ("OHFILE_SANDBOX", t.path().join("sandbox").into_os_string()),
                ("OHFILE_BACKUP_DIR", want_backup),
            ]
        );
        assert_eq!(program_path(t.path(), "python3"), PathBuf::from("python3"));
    }

    #[test]
    fn node_plan_runs_the_host_with_the_absolute_module() {
        let t = tempfile::tempdir().unwrap();
        let host = t.path().join("extension-host.mjs");
        std::fs::write(&host, "").unwrap();
        let a = app(
            t.path(),
            Some(ExtensionLaunch::NodeModule("ext.mjs".into())),
        );
        let cfg = ExtensionHostConfig {
            node_host_script: Some(host.clone()),
            ..ExtensionHostConfig::default()
        };
        let plan = LaunchPlan::for_app(&a, &cfg).unwrap();
        assert_eq!(plan.program, PathBuf::from("node"));
        assert_eq!(
            plan.args,
            vec![
                host.into_os_string(),
                t.path().join("ext.mjs").into_os_string()
            ]
        );
    }

    #[test]
    fn missing_pieces_are_boot_failures() {
        let t = tempfile::tempdir().unwrap();
        let cases = [
            (app(t.path(), None), "has no backup extension"),
            (
                app(t.path(), Some(ExtensionLaunch::NodeModule("e.mjs".into()))),
                "no Node extension host script",
            ),
        ];
        for (a, needle) in cases {
            let e = LaunchPlan::for_app(&a, &ExtensionHostConfig::default()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ExtensionBootFailed);
            assert_eq!(e.data(), Some("com.example.a"));
            assert!(e.message().contains(needle), "{}", e.message());
        }
        let cfg = ExtensionHostConfig {
            node_host_script: Some(t.path().join("missing.mjs")),
            ..ExtensionHostConfig::default()
        };
        let a = app(t.path(), Some(ExtensionLaunch::NodeModule("e.mjs".into())));
        let e = LaunchPlan::for_app(&a, &cfg).unwrap_err();
        assert!(e.message().contains("does not exist"), "{}", e.message());
    }
}
