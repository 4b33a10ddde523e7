//! Trusted-device sync through the real backup and restore sessions: a small client like the
//! CLI's copies each backup fd to `<out>/<bundle>/<uri>` and hands every file back on restore.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::tests::{b, code, install, m, secret_of, set_state};
use super::*;
use crate::backup::capabilities::write_local_capabilities;
use crate::backup::session::{
    EventSink, IncrementalBackupData, Scenario, ServiceConfig, Session, SessionEvent,
};
use crate::device::Device;

struct Client {
    out: PathBuf,
    log: Mutex<Vec<String>>,
    cond: Condvar,
    session: OnceLock<Arc<Session>>,
    pending: Mutex<BTreeMap<String, usize>>,
}

impl Client {
    fn files_of(&self, bundle: &str) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.out.join(bundle))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.ends_with(".rp"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    fn note(&self, s: String) {
        self.log.lock().unwrap().push(s);
        self.cond.notify_all();
    }
}

impl EventSink for Client {
    fn deliver(&self, event: SessionEvent) {
        let session = self.session.get().cloned();
        let restoring = session.as_ref().map(|s| s.scenario()) == Some(Scenario::Restore);
        match event {
            SessionEvent::FileReady(Ok(f)) => {
                let dir = self.out.join(&f.bundle_name);
                if restoring {
                    let mut src = fs::File::open(dir.join(&f.uri)).unwrap();
                    std::io::copy(&mut src, &mut fs::File::from(f.fd)).unwrap();
                    if let (Some(mfd), Ok(mut rp)) = (
                        f.manifest_fd,
                        fs::File::open(dir.join(format!("{}.rp", f.uri))),
                    ) {
                        std::io::copy(&mut rp, &mut fs::File::from(mfd)).unwrap();
                    }
                    let left = {
                        let mut p = self.pending.lock().unwrap();
                        let n = p.get_mut(&f.bundle_name).unwrap();
                        *n -= 1;
                        *n
                    };
                    if left == 0 {
                        session.unwrap().publish_file(&f.bundle_name, "").unwrap();
                    }
                } else {
                    fs::create_dir_all(&dir).unwrap();
                    let mut dst = fs::File::create(dir.join(&f.uri)).unwrap();
                    std::io::copy(&mut fs::File::from(f.fd), &mut dst).unwrap();
                    if let Some(mfd) = f.manifest_fd {
                        let mut rp = fs::File::create(dir.join(format!("{}.rp", f.uri))).unwrap();
                        std::io::copy(&mut fs::File::from(mfd), &mut rp).unwrap();
                    }
                }
                self.note(format!("file:{}:{}", f.bundle_name, f.uri));
            }
            SessionEvent::BundleBegin(Ok(bundle)) => {
                if restoring {
                    let files = self.files_of(&bundle);
                    self.pending
                        .lock()
                        .unwrap()
                        .insert(bundle.clone(), files.len());
                    for f in files {
                        session
                            .as_ref()
                            .unwrap()
                            .get_file_handle(&bundle, &f)
                            .unwrap();
                    }
                }
                self.note(format!("begin:{bundle}"));
            }
            SessionEvent::BundleEnd(r) => self.note(match r {
                Ok(b) => format!("end:{b}"),
                Err(e) => format!("end-err:{}:{}", e.code().code(), e.data().unwrap_or("?")),
            }),
            SessionEvent::AllBundlesEnd(_) => self.note("all".into()),
            other => self.note(format!("{other:?}").chars().take(200).collect()),
        }
    }
}

fn run(root: &Path, out: &Path, scenario: Scenario, start: impl FnOnce(&Session)) -> Vec<String> {
    let client = Arc::new(Client {
        out: out.to_path_buf(),
        log: Mutex::new(Vec::new()),
        cond: Condvar::new(),
        session: OnceLock::new(),
        pending: Mutex::new(BTreeMap::new()),
    });
    let mut config = ServiceConfig::from_env();
    config.caller_name = "asset-sync-test".into();
    let device = Device::open(Some(root)).unwrap();
    let s = Arc::new(Session::new(device, scenario, config, client.clone()).unwrap());
    let _ = client.session.set(s.clone());
    start(&s);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut log = client.log.lock().unwrap();
    while !log.iter().any(|l| l == "all") {
        assert!(Instant::now() < deadline, "timed out: {:?}", *log);
        log = client
            .cond
            .wait_timeout(log, Duration::from_millis(200))
            .unwrap()
            .0;
    }
    let log = log.clone();
    s.release().unwrap();
    log
}

fn backup(root: &Path, out: &Path, names: &[&str]) -> Vec<String> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    run(root, out, Scenario::Backup, |s| {
        s.append_backup_bundles(&names, None).unwrap()
    })
}

fn restore(
    root: &Path,
    from: &Path,
    out: &Path,
    names: &[&str],
    infos: Option<&[String]>,
) -> Vec<String> {
    let caps = write_local_capabilities(&Device::open(Some(from)).unwrap()).unwrap();
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    run(root, out, Scenario::Restore, |s| {
        s.append_restore_bundles(&caps, &names, infos).unwrap()
    })
}

const APP: &str = r#"{"versionCode": 1, "versionName": "1.0"}"#;

fn install_app(root: &Path, name: &str, bundle_json: &str) {
    install(root, name, bundle_json);
    let dir = root.join("apps").join(name);
    fs::write(
        dir.join("backup_config.json"),
        r#"{"allowToBackupRestore": true}"#,
    )
    .unwrap();
    let f = dir.join("sandbox/data/storage/el2/base/files/note.txt");
    fs::create_dir_all(f.parent().unwrap()).unwrap();
    fs::write(f, b"hello").unwrap();
}

fn state_json(trust: &Path, extra: &str) -> String {
    format!(
        r#"{{"trustGroup": {:?}{extra}}}"#,
        trust.display().to_string()
    )
}

/// Every regular file below `dir`.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn asset(alias: &str, secret: &str, extra: &[(u32, Value)]) -> AssetMap {
    let mut a = m(&[(Tag::ALIAS, b(alias)), (Tag::SECRET, b(secret))]);
    a.extend(extra.iter().cloned());
    a
}

fn number(v: u32) -> Value {
    Value::Number(v)
}

#[test]
fn a_clone_carries_trusted_device_assets_sealed_and_counts_what_could_not_travel() {
    let (a, bdev, out, trust) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let app = "com.example.notes";
    let trusted = (Tag::SYNC_TYPE, number(SyncType::TRUSTED_DEVICE));
    // Source: password set, unlocked while the app stores its assets.
    set_state(
        a.path(),
        &state_json(trust.path(), r#", "lockScreenPasswordSet": true"#),
    );
    install_app(a.path(), app, APP);
    let src = AssetStore::open(&Device::open(Some(a.path())).unwrap(), app).unwrap();
    let secrets = [
        ("plain", "SECRET-PLAIN-0001"),
        ("unlocked-only", "SECRET-UNLOCKED-0002"),
        ("needs-password", "SECRET-PASSWORD-0003"),
        ("powered-on", "SECRET-POWERED-0004"),
        ("labelled", "SECRET-LABELLED-0005"),
        ("never", "SECRET-NEVER-0006"),
        ("this-device", "SECRET-THISDEV-0007"),
    ];
    src.add(&asset(
        "plain",
        secrets[0].1,
        std::slice::from_ref(&trusted),
    ))
    .unwrap();
    src.add(&asset(
        "unlocked-only",
        secrets[1].1,
        &[
            trusted.clone(),
            (
                Tag::ACCESSIBILITY,
                number(Accessibility::DeviceUnlocked as u32),
            ),
        ],
    ))
    .unwrap();
    src.add(&asset(
        "needs-password",
        secrets[2].1,
        &[
            trusted.clone(),
            (Tag::REQUIRE_PASSWORD_SET, Value::Bool(true)),
        ],
    ))
    .unwrap();
    src.add(&asset(
        "powered-on",
        secrets[3].1,
        &[
            (
                Tag::SYNC_TYPE,
                number(SyncType::THIS_DEVICE | SyncType::TRUSTED_DEVICE),
            ),
            (
                Tag::ACCESSIBILITY,
                number(Accessibility::DevicePoweredOn as u32),
            ),
        ],
    ))
    .unwrap();
    src.add(&asset(
        "labelled",
        secrets[4].1,
        &[
            trusted.clone(),
            (Tag::DATA_LABEL_CRITICAL_1, b("critical-label")),
            (Tag::DATA_LABEL_NORMAL_1, b("normal-label")),
            (Tag::DATA_LABEL_NORMAL_LOCAL_1, b("LOCAL-ONLY-LABEL")),
        ],
    ))
    .unwrap();
    src.add(&asset("never", secrets[5].1, &[])).unwrap();
    src.add(&asset(
        "this-device",
        secrets[6].1,
        &[(Tag::SYNC_TYPE, number(SyncType::THIS_DEVICE))],
    ))
    .unwrap();
    let labelled_before = src
        .query(&m(&[(Tag::ALIAS, b("labelled"))]))
        .unwrap()
        .remove(0);
    // Then the screen locks, and the clone runs.
    set_state(
        a.path(),
        &state_json(
            trust.path(),
            r#", "lockScreenPasswordSet": true, "screenLocked": true"#,
        ),
    );
    let log = backup(a.path(), out.path(), &[app]);
    assert!(log.contains(&format!("end:{app}")), "{log:?}");
    let files: Vec<String> = log
        .iter()
        .filter_map(|l| l.strip_prefix(&format!("file:{app}:")).map(str::to_string))
        .collect();
    assert_eq!(
        files.iter().rev().take(2).collect::<Vec<_>>(),
        ["manage.json", SYNC_PACKAGE_URI],
        "the package comes just before manage.json: {files:?}"
    );
    let manage = fs::read_to_string(out.path().join(app).join("manage.json")).unwrap();
    assert!(!manage.contains(SYNC_PACKAGE_URI), "not listed as app data");
    // No secret (nor the labels) in plaintext in any backup file.
    for f in files_below(out.path()) {
        let bytes = fs::read(&f).unwrap();
        for (alias, s) in secrets {
            assert!(
                !contains(&bytes, s.as_bytes()),
                "{alias}'s secret in {}",
                f.display()
            );
        }
        for l in ["LOCAL-ONLY-LABEL", "critical-label", "normal-label"] {
            assert!(!contains(&bytes, l.as_bytes()), "{l} in {}", f.display());
        }
    }

    // Target: same trust group, no lock-screen password.
    set_state(bdev.path(), &state_json(trust.path(), ""));
    install_app(bdev.path(), app, APP);
    let rlog = restore(bdev.path(), a.path(), out.path(), &[app], None);
    assert!(rlog.contains(&format!("end:{app}")), "{rlog:?}");
    let dst = AssetStore::open(&Device::open(Some(bdev.path())).unwrap(), app).unwrap();
    assert_eq!(
        dst.query_sync_result(&m(&[])).unwrap(),
        SyncResult {
            result_code: 0,
            total_count: Some(5),
            failed_count: Some(2)
        }
    );
    assert_eq!(
        dst.query_sync_result(&m(&[(Tag::REQUIRE_ATTR_ENCRYPTED, Value::Bool(true))]))
            .unwrap(),
        SyncResult::new(0, 0, 0),
        "nothing was synced in the encrypted bucket"
    );
    for (alias, s) in [secrets[0], secrets[3], secrets[4]] {
        assert_eq!(secret_of(&dst, alias).unwrap(), s.as_bytes(), "{alias}");
    }
    for alias in ["unlocked-only", "needs-password", "never", "this-device"] {
        assert_eq!(
            code(dst.query(&m(&[(Tag::ALIAS, b(alias))]))),
            24000002,
            "{alias} stayed behind"
        );
    }
    let labelled = dst
        .query(&m(&[(Tag::ALIAS, b("labelled"))]))
        .unwrap()
        .remove(0);
    assert_eq!(
        labelled.get(&Tag::DATA_LABEL_CRITICAL_1),
        Some(&b("critical-label"))
    );
    assert_eq!(
        labelled.get(&Tag::DATA_LABEL_NORMAL_1),
        Some(&b("normal-label"))
    );
    assert_eq!(
        labelled.get(&Tag::DATA_LABEL_NORMAL_LOCAL_1),
        None,
        "local labels stay behind"
    );
    assert_eq!(
        labelled.get(&Tag::UPDATE_TIME),
        labelled_before.get(&Tag::UPDATE_TIME),
        "times are kept"
    );
    let powered = dst
        .query(&m(&[(Tag::ALIAS, b("powered-on"))]))
        .unwrap()
        .remove(0);
    assert_eq!(powered.get(&Tag::SYNC_TYPE), Some(&number(3)));
    // The data came too, and the package never reached the sandbox.
    let sandbox = bdev.path().join("apps").join(app).join("sandbox");
    assert_eq!(
        fs::read(sandbox.join("data/storage/el2/base/files/note.txt")).unwrap(),
        b"hello"
    );
    assert!(
        files_below(&sandbox)
            .iter()
            .all(|p| !p.to_string_lossy().contains(SYNC_PACKAGE_URI)),
        "{:?}",
        files_below(&sandbox)
    );
    // Re-encrypted under the target's keys: the source's key files are not the target's.
    assert_ne!(
        fs::read(a.path().join("state/asset/keys/ce.key")).unwrap(),
        fs::read(bdev.path().join("state/asset/keys/ce.key")).unwrap()
    );
}

#[test]
fn mapping_buckets_incremental_backups_and_untrusted_targets() {
    let (a, bdev, c, out, trust, other_trust) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (old, new, quiet) = ("com.old.app", "com.new.app", "com.example.quiet");
    let groups = r#"{"versionCode": 1, "versionName": "1.0", "developerId": "dev", "assetAccessGroups": ["shared_group"]}"#;
    set_state(a.path(), &state_json(trust.path(), ""));
    install_app(a.path(), old, groups);
    install_app(a.path(), quiet, APP);
    let dev_a = Device::open(Some(a.path())).unwrap();
    let src = AssetStore::open(&dev_a, old).unwrap();
    let trusted = (Tag::SYNC_TYPE, number(SyncType::TRUSTED_DEVICE));
    src.add(&asset(
        "plain",
        "SECRET-MAPPED-1",
        std::slice::from_ref(&trusted),
    ))
    .unwrap();
    src.add(&asset(
        "enc",
        "SECRET-MAPPED-2",
        &[
            trusted.clone(),
            (Tag::REQUIRE_ATTR_ENCRYPTED, Value::Bool(true)),
        ],
    ))
    .unwrap();
    let group = (Tag::GROUP_ID, b("shared_group"));
    src.add(&asset(
        "grouped",
        "SECRET-MAPPED-3",
        &[trusted.clone(), group.clone()],
    ))
    .unwrap();
    AssetStore::open(&dev_a, quiet)
        .unwrap()
        .add(&asset("local", "SECRET-QUIET", &[]))
        .unwrap();
    // An incremental backup (no previous manifest) carries the package too, with its manifest.
    let mut prev = tempfile::tempfile().unwrap();
    prev.write_all(b"").unwrap();
    let inc = vec![IncrementalBackupData {
        bundle_name: old.into(),
        last_incremental_time: 0,
        manifest: prev,
        parameters: String::new(),
        priority: 0,
    }];
    let log = run(a.path(), out.path(), Scenario::Backup, |s| {
        s.append_incremental_bundles(inc, None).unwrap()
    });
    assert!(log.contains(&format!("end:{old}")), "{log:?}");
    assert!(out.path().join(old).join(SYNC_PACKAGE_URI).is_file());
    assert!(out
        .path()
        .join(old)
        .join(format!("{SYNC_PACKAGE_URI}.rp"))
        .is_file());
    // An app with nothing to sync sends no package.
    backup(a.path(), out.path(), &[quiet]);
    assert!(!out.path().join(quiet).join(SYNC_PACKAGE_URI).exists());

    // Restore into a renamed app (app_mapping_relation) on a trusted device.
    set_state(bdev.path(), &state_json(trust.path(), ""));
    install_app(bdev.path(), new, groups);
    let infos = [r#"{"infos":[{"type":"broadcast","details":[{"type":"app_mapping_relation","detail":[{"source":"com.old.app","target":"com.new.app"}]}]}]}"#.to_string()];
    let rlog = restore(bdev.path(), a.path(), out.path(), &[old], Some(&infos));
    assert!(rlog.contains(&format!("end:{old}")), "{rlog:?}");
    let dev_b = Device::open(Some(bdev.path())).unwrap();
    let dst = AssetStore::open(&dev_b, new).unwrap();
    assert_eq!(secret_of(&dst, "plain").unwrap(), b"SECRET-MAPPED-1");
    let enc = (Tag::REQUIRE_ATTR_ENCRYPTED, Value::Bool(true));
    let rows = dst
        .query(&m(&[
            (Tag::ALIAS, b("enc")),
            (Tag::RETURN_TYPE, number(0)),
            enc.clone(),
        ]))
        .unwrap();
    assert_eq!(rows[0].get(&Tag::SECRET), Some(&b("SECRET-MAPPED-2")));
    let rows = dst
        .query(&m(&[
            (Tag::ALIAS, b("grouped")),
            (Tag::RETURN_TYPE, number(0)),
            group.clone(),
        ]))
        .unwrap();
    assert_eq!(rows[0].get(&Tag::SECRET), Some(&b("SECRET-MAPPED-3")));
    for q in [
        m(&[]),
        m(std::slice::from_ref(&enc)),
        m(std::slice::from_ref(&group)),
    ] {
        assert_eq!(
            dst.query_sync_result(&q).unwrap(),
            SyncResult::new(0, 1, 0),
            "{q:?}"
        );
    }
    assert_eq!(
        AssetStore::open(&dev_b, old)
            .unwrap()
            .query_sync_result(&m(&[]))
            .unwrap(),
        SyncResult::new(0, 0, 0),
        "the source name got nothing"
    );

    // A device of another trust group cannot open the package: the sync failed, counts omitted.
    set_state(c.path(), &state_json(other_trust.path(), ""));
    install_app(c.path(), old, groups);
    let clog = restore(c.path(), a.path(), out.path(), &[old], None);
    assert!(
        clog.contains(&format!("end:{old}")),
        "data still restores: {clog:?}"
    );
    let untrusted = AssetStore::open(&Device::open(Some(c.path())).unwrap(), old).unwrap();
    assert_eq!(
        untrusted.query_sync_result(&m(&[])).unwrap(),
        SyncResult {
            result_code: 24000004,
            total_count: None,
            failed_count: None
        }
    );
    assert_eq!(code(untrusted.query(&m(&[]))), 24000002);
    assert!(
        !other_trust.path().join("group.key").exists(),
        "an importing device never creates a group key"
    );
}
