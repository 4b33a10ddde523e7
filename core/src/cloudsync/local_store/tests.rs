//! The embedded cloud against real folders: several handles, threads and processes on one folder,
//! and the debris a crash leaves.

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::blob::upper_hex;
use super::*;
use crate::cloudsync::{open_cloud, ChangeKind, PutCondition, MAX_KEY_LEN};

const NS: &str = "com.example.app";

fn store() -> (tempfile::TempDir, LocalStore) {
    let t = tempfile::tempdir().unwrap();
    let s = LocalStore::open(t.path().join("cloud")).unwrap();
    (t, s)
}

fn sha(bytes: &[u8]) -> String {
    upper_hex(&Sha256::digest(bytes))
}

fn put(s: &LocalStore, key: &str, bytes: &[u8]) -> ObjectMeta {
    s.put_bytes(NS, key, bytes, &PutOptions::default()).unwrap()
}

fn read(s: &LocalStore, key: &str) -> Vec<u8> {
    s.get_bytes(NS, key).unwrap().0
}

fn journal_lines(s: &LocalStore, ns: &str) -> Vec<String> {
    fs::read_to_string(s.journal_path(ns))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn put_get_head_list_delete_round_trip() {
    let (_t, s) = store();
    assert_eq!(s.head(NS, "a.txt").unwrap(), None);
    assert!(s.list(NS, "").unwrap().is_empty());

    let m = s
        .put_bytes(
            NS,
            "docs/a.txt",
            b"hello",
            &PutOptions::default().with_modified(1234),
        )
        .unwrap();
    assert_eq!(
        (m.key.as_str(), m.size, m.modified),
        ("docs/a.txt", 5, 1234)
    );
    assert_eq!(m.sha256, sha(b"hello"));
    assert!(m
        .sha256
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
    let before = now_millis();
    let b = put(&s, "docs/b.bin", &[7u8; 300_000]); // bigger than one copy buffer
    assert!(b.modified >= before && b.modified <= now_millis());
    put(&s, "top.txt", b"");

    assert_eq!(s.head(NS, "docs/a.txt").unwrap(), Some(m.clone()));
    let (bytes, meta) = s.get_bytes(NS, "docs/b.bin").unwrap();
    assert_eq!((bytes, meta), (vec![7u8; 300_000], b.clone()));
    assert_eq!(read(&s, "top.txt"), b"");
    let keys = |prefix: &str| -> Vec<String> {
        s.list(NS, prefix)
            .unwrap()
            .into_iter()
            .map(|m| m.key)
            .collect()
    };
    assert_eq!(keys(""), ["docs/a.txt", "docs/b.bin", "top.txt"]);
    assert_eq!(keys("docs/"), ["docs/a.txt", "docs/b.bin"]);
    assert_eq!(keys("docs/a"), ["docs/a.txt"]);
    assert!(keys("zzz").is_empty());
    // Namespaces are separate.
    assert!(s.list("media", "").unwrap().is_empty());
    assert_eq!(s.head("media", "docs/a.txt").unwrap(), None);

    s.delete(NS, "docs/a.txt", &DeleteCondition::Always)
        .unwrap();
    assert_eq!(s.head(NS, "docs/a.txt").unwrap(), None);
    let e = s.get_bytes(NS, "docs/a.txt").unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.code().code(), 13900002);
    assert_eq!(keys(""), ["docs/b.bin", "top.txt"]);
    assert!(
        !s.blob_path(NS, &m.version).exists(),
        "a deleted object's blob is freed"
    );
    // Deleting what is not there succeeds and records nothing.
    let lines = journal_lines(&s, NS).len();
    s.delete(NS, "docs/a.txt", &DeleteCondition::Always)
        .unwrap();
    assert_eq!(journal_lines(&s, NS).len(), lines);
    assert_eq!(s.namespaces().unwrap(), [NS]);
}

#[test]
fn ranged_gets_serve_resumable_downloads() {
    let (_t, s) = store();
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let m = put(&s, "f", &data);
    let get = |opts: GetOptions| -> CloudResult<Vec<u8>> {
        let mut out = Vec::new();
        s.get(NS, "f", &opts, &mut out).map(|_| out)
    };
    let range = |offset, len| GetOptions {
        offset,
        len,
        if_version: None,
    };
    assert_eq!(get(range(10, Some(5))).unwrap(), &data[10..15]);
    assert_eq!(get(range(990, Some(100))).unwrap(), &data[990..]);
    assert_eq!(get(range(400, None)).unwrap(), &data[400..]);
    assert_eq!(get(range(1000, None)).unwrap(), b"");
    let e = get(range(1001, None)).unwrap_err();
    assert_eq!(e.code().code(), 13900020);

    // A download resumed after the object changed must not splice versions.
    let mut partial = get(range(0, Some(600))).unwrap();
    partial.extend(get(GetOptions::resume(600, &m.version)).unwrap());
    assert_eq!(partial, data);
    let m2 = put(&s, "f", b"new content");
    let e = get(GetOptions::resume(600, &m.version)).unwrap_err();
    assert!(e.is_precondition_failed());
    assert!(
        matches!(e, CloudError::PreconditionFailed { current: Some(ref v), .. } if *v == m2.version)
    );
}

#[test]
fn every_put_makes_a_new_version() {
    let (_t, s) = store();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let m = put(&s, "same", b"identical bytes");
        assert!(
            seen.insert(m.version.clone()),
            "version {} reused",
            m.version
        );
        assert_eq!(m.sha256, sha(b"identical bytes"));
    }
    // Also across namespaces and handles of the same folder.
    let other = LocalStore::open(s.root()).unwrap();
    let m = other
        .put_bytes("media", "same", b"identical bytes", &PutOptions::default())
        .unwrap();
    assert!(seen.insert(m.version));
    // Only the live version keeps a blob.
    let blobs: usize = fs::read_dir(s.ns_dir(NS).join("blobs"))
        .unwrap()
        .map(|d| fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(blobs, 1);
}

#[test]
fn conditional_puts_compare_and_swap() {
    let (_t, s) = store();
    let v1 = s
        .put_bytes(NS, "k", b"one", &PutOptions::if_absent())
        .unwrap();
    let e = s
        .put_bytes(NS, "k", b"two", &PutOptions::if_absent())
        .unwrap_err();
    assert!(e.is_precondition_failed());
    assert_eq!(e.code().code(), 13900015);
    assert!(
        matches!(&e, CloudError::PreconditionFailed { current: Some(v), .. } if *v == v1.version)
    );
    assert_eq!(read(&s, "k"), b"one", "a failed put changes nothing");

    let v2 = s
        .put_bytes(NS, "k", b"two", &PutOptions::if_version(&v1.version))
        .unwrap();
    assert_eq!(read(&s, "k"), b"two");
    let e = s
        .put_bytes(NS, "k", b"three", &PutOptions::if_version(&v1.version))
        .unwrap_err();
    assert!(
        matches!(&e, CloudError::PreconditionFailed { current: Some(v), .. } if *v == v2.version)
    );
    let e = s
        .put_bytes(NS, "nope", b"x", &PutOptions::if_version(&v1.version))
        .unwrap_err();
    assert!(matches!(
        e,
        CloudError::PreconditionFailed { current: None, .. }
    ));
    assert_eq!(s.head(NS, "nope").unwrap(), None);

    s.delete(NS, "k", &DeleteCondition::Always).unwrap();
    let e = s
        .put_bytes(NS, "k", b"x", &PutOptions::if_version(&v2.version))
        .unwrap_err();
    assert!(e.is_precondition_failed());
    s.put_bytes(NS, "k", b"again", &PutOptions::if_absent())
        .unwrap();
    // No temp file is left behind by the refused puts.
    assert_eq!(fs::read_dir(s.ns_dir(NS).join("tmp")).unwrap().count(), 0);
}

#[test]
fn conditional_deletes() {
    let (_t, s) = store();
    let v1 = put(&s, "k", b"one");
    let v2 = put(&s, "k", b"two");
    let e = s
        .delete(NS, "k", &DeleteCondition::IfVersion(v1.version.clone()))
        .unwrap_err();
    assert!(
        matches!(&e, CloudError::PreconditionFailed { current: Some(v), .. } if *v == v2.version)
    );
    assert_eq!(read(&s, "k"), b"two");
    s.delete(NS, "k", &DeleteCondition::IfVersion(v2.version.clone()))
        .unwrap();
    assert_eq!(s.head(NS, "k").unwrap(), None);
    let e = s
        .delete(NS, "k", &DeleteCondition::IfVersion(v2.version))
        .unwrap_err();
    assert!(matches!(
        e,
        CloudError::PreconditionFailed { current: None, .. }
    ));

    // A namespace nobody wrote to is not created by a delete.
    s.delete("com.never.used", "x", &DeleteCondition::Always)
        .unwrap();
    let e = s
        .delete(
            "com.never.used",
            "x",
            &DeleteCondition::IfVersion("1-0".into()),
        )
        .unwrap_err();
    assert!(e.is_precondition_failed());
    assert!(!s.ns_dir("com.never.used").exists());
}

#[test]
fn change_feed_is_ordered_coalesced_and_resumes_exactly() {
    let (_t, s) = store();
    let empty = s.changes_since(NS, 0, 0).unwrap();
    assert_eq!(
        (empty.changes.len(), empty.cursor, empty.has_more),
        (0, 0, false)
    );

    put(&s, "a", b"1");
    let b = put(&s, "b", b"2");
    s.delete(NS, "a", &DeleteCondition::Always).unwrap();
    let c = put(&s, "c", b"3");
    let page = s.changes_since(NS, 0, 0).unwrap();
    let got: Vec<(&str, bool)> = page
        .changes
        .iter()
        .map(|ch| (ch.key.as_str(), matches!(ch.kind, ChangeKind::Delete)))
        .collect();
    assert_eq!(got, [("b", false), ("a", true), ("c", false)]);
    assert!(page.changes.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(page.changes[0].kind, ChangeKind::Upsert(b));
    assert_eq!(page.changes[2].kind, ChangeKind::Upsert(c.clone()));
    assert_eq!(page.cursor, page.changes[2].seq);
    assert!(!page.has_more);

    let none = s.changes_since(NS, page.cursor, 0).unwrap();
    assert!(none.changes.is_empty());
    assert_eq!(none.cursor, page.cursor);

    let c2 = put(&s, "c", b"33");
    let d = put(&s, "d", b"4");
    let next = s.changes_since(NS, page.cursor, 0).unwrap();
    assert_eq!(next.changes.len(), 2);
    assert_eq!(next.changes[0].kind, ChangeKind::Upsert(c2));
    assert_eq!(next.changes[1].kind, ChangeKind::Upsert(d));

    // Paging one at a time visits every key once and ends where one big page ends.
    let mut cursor = 0;
    let mut keys = Vec::new();
    loop {
        let p = s.changes_since(NS, cursor, 1).unwrap();
        keys.extend(p.changes.iter().map(|c| c.key.clone()));
        cursor = p.cursor;
        if !p.has_more {
            break;
        }
    }
    assert_eq!(keys, ["b", "a", "c", "d"]);
    assert_eq!(cursor, next.cursor);

    // A cursor this namespace never issued: from the future, or from before it existed.
    let e = s.changes_since(NS, next.cursor + 1, 0).unwrap_err();
    assert!(e.is_cursor_expired());
    let e = s.changes_since(NS, 5, 0).unwrap_err();
    assert!(e.is_cursor_expired());
    // A wiped and recreated cloud does not accept the old cursor even after as many changes.
    fs::remove_dir_all(s.ns_dir(NS)).unwrap();
    let fresh = LocalStore::open(s.root()).unwrap();
    assert!(fresh
        .changes_since(NS, cursor, 0)
        .unwrap_err()
        .is_cursor_expired());
    for i in 0..6 {
        put(&fresh, &format!("n{i}"), b"x");
    }
    assert!(s
        .changes_since(NS, cursor, 0)
        .unwrap_err()
        .is_cursor_expired());
    assert_eq!(s.changes_since(NS, 0, 0).unwrap().changes.len(), 6);
}

#[test]
fn two_devices_share_one_cloud() {
    let t = tempfile::tempdir().unwrap();
    let (a_root, b_root) = (t.path().join("a"), t.path().join("b"));
    fs::create_dir_all(&a_root).unwrap();
    fs::create_dir_all(&b_root).unwrap();
    fs::write(b_root.join("device.json"), r#"{"cloud": "../a/cloud"}"#).unwrap();
    let a = LocalStore::for_device(&Device::open(Some(&a_root)).unwrap()).unwrap();
    let b: Arc<dyn CloudBackend> = open_cloud(&Device::open(Some(&b_root)).unwrap()).unwrap();

    let va = a
        .put_bytes(NS, "shared.txt", b"from A", &PutOptions::default())
        .unwrap();
    assert_eq!(b.head(NS, "shared.txt").unwrap(), Some(va.clone()));
    let feed = b.changes_since(NS, 0, 0).unwrap();
    assert_eq!(feed.changes[0].kind, ChangeKind::Upsert(va.clone()));

    let vb = b
        .put_bytes(
            NS,
            "shared.txt",
            b"from B",
            &PutOptions::if_version(&va.version),
        )
        .unwrap();
    // A's view is stale, so its compare-and-swap loses and it sees B's content.
    let e = a
        .put_bytes(
            NS,
            "shared.txt",
            b"A again",
            &PutOptions::if_version(&va.version),
        )
        .unwrap_err();
    assert!(e.is_precondition_failed());
    assert_eq!(
        a.get_bytes(NS, "shared.txt").unwrap(),
        (b"from B".to_vec(), vb)
    );
    let after = a.changes_since(NS, feed.cursor, 0).unwrap();
    assert_eq!(after.changes.len(), 1);
    b.delete(NS, "shared.txt", &DeleteCondition::Always)
        .unwrap();
    assert_eq!(a.head(NS, "shared.txt").unwrap(), None);
    assert_eq!(
        a.changes_since(NS, after.cursor, 0).unwrap().changes[0].kind,
        ChangeKind::Delete
    );
}

/// Content that names its writer and index, so a torn or misplaced object shows.
fn payload(writer: &str, i: usize) -> Vec<u8> {
    let unit = format!("{writer}:{i};");
    unit.repeat(1 + (i * 131) % 3000).into_bytes()
}

/// The work one writer does: `n` distinct objects and `n` increments of a shared counter through
/// compare-and-swap.
fn hammer(s: &dyn CloudBackend, writer: &str, n: usize) {
    for i in 0..n {
        s.put_bytes(
            NS,
            &format!("{writer}/{i}"),
            &payload(writer, i),
            &PutOptions::default(),
        )
        .unwrap();
        loop {
            let (value, condition) = match s.get_bytes(NS, "counter") {
                Ok((bytes, meta)) => (
                    String::from_utf8(bytes).unwrap().parse::<u64>().unwrap(),
                    PutCondition::IfVersion(meta.version),
                ),
                Err(e) if e.is_not_found() => (0, PutCondition::IfAbsent),
                Err(e) => panic!("{e}"),
            };
            let opts = PutOptions {
                condition,
                modified: None,
            };
            match s.put_bytes(NS, "counter", (value + 1).to_string().as_bytes(), &opts) {
                Ok(_) => break,
                Err(e) if e.is_precondition_failed() => continue,
                Err(e) => panic!("{e}"),
            }
        }
    }
}

const CHILD_ENV: &str = "OHFILE_CLOUD_TEST_CHILD";

/// Not a test: the body of the child processes of `threads_and_processes_lose_nothing`.
#[test]
#[ignore = "run by threads_and_processes_lose_nothing in a child process"]
fn child_process_writer() {
    let spec = std::env::var(CHILD_ENV).expect("only run as a child");
    let mut parts = spec.split('|');
    let (dir, writer, n) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap().parse().unwrap(),
    );
    hammer(&LocalStore::open(dir).unwrap(), writer, n);
}

#[test]
fn threads_and_processes_lose_nothing_and_never_tear() {
    const N: usize = 30;
    let (_t, s) = store();
    let children: Vec<_> = ["p0", "p1"]
        .iter()
        .map(|w| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "cloudsync::local_store::tests::child_process_writer",
                    "--ignored",
                    "--test-threads=1",
                    "--quiet",
                ])
                .env(CHILD_ENV, format!("{}|{w}|{N}", s.root().display()))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let done = AtomicBool::new(false);
    let verified = AtomicUsize::new(0);
    let compactions = AtomicUsize::new(0);
    /// Stops the reader even when a writer panics (or the scope would wait for it forever).
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|scope| {
        let stop = StopOnDrop(&done);
        // A reader on its own handle checks every object it can see is whole, and compacts the
        // journal under everyone's feet between rounds.
        scope.spawn(|| {
            let r = LocalStore::open(s.root()).unwrap();
            while !done.load(Ordering::Relaxed) {
                r.compact(NS).unwrap();
                compactions.fetch_add(1, Ordering::Relaxed);
                for m in r.list(NS, "").unwrap() {
                    match r.get_bytes(NS, &m.key) {
                        Ok((bytes, meta)) => {
                            assert_eq!(bytes.len() as u64, meta.size, "{}", meta.key);
                            assert_eq!(sha(&bytes), meta.sha256, "torn object {}", meta.key);
                            verified.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        });
        let writers: Vec<_> = ["t0", "t1", "t2"]
            .iter()
            .map(|w| {
                let s = &s;
                scope.spawn(move || hammer(s, w, N))
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "a child writer failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        drop(stop);
    });
    assert!(verified.load(Ordering::Relaxed) > 0);
    assert!(compactions.load(Ordering::Relaxed) > 0);

    let fresh = LocalStore::open(s.root()).unwrap();
    for store in [&s, &fresh] {
        assert_eq!(
            store.get_bytes(NS, "counter").unwrap().0,
            (5 * N).to_string().as_bytes()
        );
        for w in ["p0", "p1", "t0", "t1", "t2"] {
            for i in 0..N {
                let (bytes, meta) = store.get_bytes(NS, &format!("{w}/{i}")).unwrap();
                assert_eq!(bytes, payload(w, i));
                assert_eq!(meta.sha256, sha(&bytes));
            }
        }
        let feed = store.changes_since(NS, 0, 0).unwrap();
        assert_eq!(feed.changes.len(), 5 * N + 1);
    }
    // Every journal line is whole and sequences only grow (compaction leaves gaps).
    let mut seqs = Vec::new();
    for line in journal_lines(&s, NS).iter().skip(1) {
        let record: Record = serde_json::from_str(line).unwrap();
        match record {
            Record::Put { seq, .. } | Record::Delete { seq, .. } => seqs.push(seq),
            Record::Header { .. } => panic!("second header"),
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(fs::read_dir(s.ns_dir(NS).join("tmp")).unwrap().count(), 0);
}

#[test]
fn crash_debris_is_invisible_and_cleaned() {
    let (_t, s) = store();
    let keep = put(&s, "keep", b"kept");
    let dir = s.ns_dir(NS);

    // A crashed upload's temp file (old, unlocked) and a live writer's (locked).
    let stale = dir.join("tmp/999-dead.part");
    fs::write(&stale, b"half an upload").unwrap();
    File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let live = dir.join("tmp/998-live.part");
    fs::write(&live, b"uploading").unwrap();
    let live_file = File::options().write(true).open(&live).unwrap();
    flock::lock(&live_file, libc::LOCK_EX).unwrap();
    live_file
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    // A put that crashed after renaming its blob, and then while writing its journal line.
    let orphan = s.blob_path(NS, "ff-0123456789ab");
    fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    fs::write(&orphan, b"never committed").unwrap();
    let torn = Record::Put {
        seq: 999_999_999_999_999_999,
        key: "ghost".into(),
        size: 15,
        version: "ff-0123456789ab".into(),
        sha256: sha(b"never committed"),
        modified: 0,
    }
    .to_line();
    fs::OpenOptions::new()
        .append(true)
        .open(s.journal_path(NS))
        .unwrap()
        .write_all(&torn[..torn.len() / 2])
        .unwrap();

    // Readers on a fresh handle see exactly the committed state.
    let reader = LocalStore::open(s.root()).unwrap();
    assert_eq!(reader.head(NS, "ghost").unwrap(), None);
    assert_eq!(reader.list(NS, "").unwrap(), [keep]);
    let cursor = reader.changes_since(NS, 0, 0).unwrap().cursor;

    // The next writer ends the torn line, commits after it and sweeps the dead temp file only.
    let writer = LocalStore::open(s.root()).unwrap();
    let after = writer
        .put_bytes(NS, "after", b"fine", &PutOptions::default())
        .unwrap();
    assert!(!stale.exists(), "the crashed upload's temp file is swept");
    assert!(live.exists(), "a locked temp file belongs to a live upload");
    let feed = reader.changes_since(NS, cursor, 0).unwrap();
    assert_eq!(feed.changes.len(), 1);
    assert_eq!(feed.changes[0].kind, ChangeKind::Upsert(after));
    let lines = journal_lines(&s, NS);
    assert!(
        serde_json::from_str::<Record>(&lines[lines.len() - 2]).is_err(),
        "torn line kept as is"
    );
    assert!(serde_json::from_str::<Record>(&lines[lines.len() - 1]).is_ok());
    assert_eq!(s.get_bytes(NS, "keep").unwrap().0, b"kept");

    // Compaction drops the torn line and the orphan blob; cursors and content survive.
    writer.compact(NS).unwrap();
    assert!(!orphan.exists());
    assert!(journal_lines(&s, NS)
        .iter()
        .all(|l| serde_json::from_str::<Record>(l).is_ok()));
    assert_eq!(reader.changes_since(NS, cursor, 0).unwrap(), feed);
    assert_eq!(s.get_bytes(NS, "after").unwrap().0, b"fine");
    drop(live_file);
}

#[test]
fn a_journal_line_being_written_is_seen_only_when_whole() {
    let (_t, s) = store();
    put(&s, "a", b"1");
    let reader = LocalStore::open(s.root()).unwrap();
    let head = reader.changes_since(NS, 0, 0).unwrap().cursor;
    // Play the writer by hand: blob in place, then the line in two writes.
    let version = format!("{:x}-00000000abcd", head + 1);
    let blob = s.blob_path(NS, &version);
    fs::create_dir_all(blob.parent().unwrap()).unwrap();
    fs::write(&blob, b"slow").unwrap();
    let line = Record::Put {
        seq: head + 1,
        key: "slow".into(),
        size: 4,
        version: version.clone(),
        sha256: sha(b"slow"),
        modified: 7,
    }
    .to_line();
    let mut journal = fs::OpenOptions::new()
        .append(true)
        .open(s.journal_path(NS))
        .unwrap();
    journal.write_all(&line[..10]).unwrap();
    assert_eq!(reader.head(NS, "slow").unwrap(), None);
    assert!(reader
        .changes_since(NS, head, 0)
        .unwrap()
        .changes
        .is_empty());
    journal.write_all(&line[10..]).unwrap();
    assert_eq!(reader.get_bytes(NS, "slow").unwrap().0, b"slow");
    assert_eq!(
        reader.changes_since(NS, head, 0).unwrap().changes[0].seq,
        head + 1
    );
}

#[test]
fn bad_keys_and_namespaces_are_rejected_with_13900020() {
    let (_t, s) = store();
    let long = "x".repeat(MAX_KEY_LEN + 1);
    for key in [
        "",
        "/etc/passwd",
        "../escape",
        "a/../../b",
        "a//b",
        "nul\0byte",
        long.as_str(),
    ] {
        let codes = [
            s.put_bytes(NS, key, b"x", &PutOptions::default())
                .unwrap_err()
                .code(),
            s.get_bytes(NS, key).unwrap_err().code(),
            s.head(NS, key).unwrap_err().code(),
            s.delete(NS, key, &DeleteCondition::Always)
                .unwrap_err()
                .code(),
        ];
        assert!(
            codes.iter().all(|c| c.code() == 13900020),
            "{key:?}: {codes:?}"
        );
    }
    for ns in ["", "..", "a/b", "../cloud"] {
        assert_eq!(s.list(ns, "").unwrap_err().code().code(), 13900020);
        assert_eq!(
            s.changes_since(ns, 0, 0).unwrap_err().code().code(),
            13900020
        );
        assert_eq!(
            s.put_bytes(ns, "k", b"x", &PutOptions::default())
                .unwrap_err()
                .code()
                .code(),
            13900020
        );
    }
    assert_eq!(
        fs::read_dir(s.root().join("ns")).unwrap().count(),
        0,
        "nothing was created"
    );
}

#[test]
fn quota_covers_the_whole_store() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("device.json"), r#"{"cloudQuotaBytes": 100}"#).unwrap();
    let s = LocalStore::for_device(&Device::open(Some(t.path())).unwrap()).unwrap();
    assert_eq!(s.quota(), Some(100));
    put(&s, "a", &[1; 60]);
    let e = s
        .put_bytes("media", "b", &[2; 50], &PutOptions::default())
        .unwrap_err();
    assert!(e.is_cloud_full());
    assert_eq!(e.code().code(), 13900041);
    assert_eq!(
        e,
        CloudError::Full {
            quota: 100,
            used: 60,
            needed: 50
        }
    );
    assert_eq!(s.head("media", "b").unwrap(), None);
    s.put_bytes("media", "b", &[2; 40], &PutOptions::default())
        .unwrap();
    // Replacing an object counts only the difference.
    put(&s, "a", &[3; 60]);
    assert!(s
        .put_bytes(NS, "a", &[3; 61], &PutOptions::default())
        .unwrap_err()
        .is_cloud_full());
    // Another handle on the same folder (another device) is held to the same total.
    let other = LocalStore::open(s.root()).unwrap();
    other.set_quota(Some(100));
    assert!(other
        .put_bytes("com.other", "c", b"x", &PutOptions::default())
        .unwrap_err()
        .is_cloud_full());
    s.delete(NS, "a", &DeleteCondition::Always).unwrap();
    other
        .put_bytes("com.other", "c", &[4; 60], &PutOptions::default())
        .unwrap();
    assert_eq!(s.used_bytes().unwrap(), 100);
    s.set_quota(None);
    put(&s, "big", &[5; 1000]);
    assert_eq!(s.used_bytes().unwrap(), 1100);
}

#[test]
fn compaction_keeps_cursors_and_runs_on_its_own() {
    let (_t, s) = store();
    s.set_fsync(false);
    let other = LocalStore::open(s.root()).unwrap();
    put(&s, "gone", b"x");
    s.delete(NS, "gone", &DeleteCondition::Always).unwrap();
    let mid = other.changes_since(NS, 0, 0).unwrap();
    for i in 0..1100 {
        put(&s, "hot", format!("{i}").as_bytes());
    }
    put(&s, "cold", b"c");
    // The journal was rewritten along the way; the other handle notices and reloads.
    assert!(
        journal_lines(&s, NS).len() < 1100,
        "{}",
        journal_lines(&s, NS).len()
    );
    assert_eq!(other.get_bytes(NS, "hot").unwrap().0, b"1099");
    let all = other.changes_since(NS, 0, 0).unwrap();
    let keys: Vec<_> = all.changes.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["gone", "hot", "cold"]);
    let since_mid = other.changes_since(NS, mid.cursor, 0).unwrap();
    assert_eq!(since_mid.changes.len(), 2);
    assert_eq!(since_mid.cursor, all.cursor);
    s.compact(NS).unwrap();
    assert_eq!(journal_lines(&s, NS).len(), 4); // header, gone (tombstone), hot, cold
    assert_eq!(other.changes_since(NS, 0, 0).unwrap(), all);
}

#[test]
fn a_failing_source_stream_stores_nothing() {
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            self.0 -= 1;
            buf[0] = b'x';
            Ok(1)
        }
    }
    let (_t, s) = store();
    let e = s
        .put(NS, "k", &mut Broken(3), &PutOptions::default())
        .unwrap_err();
    assert_eq!(e.code().code(), 13900005);
    assert_eq!(s.head(NS, "k").unwrap(), None);
    assert_eq!(fs::read_dir(s.ns_dir(NS).join("tmp")).unwrap().count(), 0);
}

#[test]
fn a_fresh_handle_answers_a_cursor_at_the_head_without_missing_anything() {
    let (dir, s) = store();
    let ns = "com.example.app";
    for i in 0..5 {
        put(&s, &format!("k{i}"), b"x");
    }
    s.delete(ns, "k1", &DeleteCondition::Always).unwrap();
    let head = s.changes_since(ns, 0, 0).unwrap().cursor;
    // A new handle (as in a new process): the cheap path says "nothing new" at the head …
    let fresh = LocalStore::open(dir.path().join("cloud")).unwrap();
    let page = fresh.changes_since(ns, head, 0).unwrap();
    assert_eq!(
        (page.changes.len(), page.cursor, page.has_more),
        (0, head, false)
    );
    // … and an older cursor or a later put still gets the real changes.
    let fresh = LocalStore::open(dir.path().join("cloud")).unwrap();
    assert_eq!(
        fresh.changes_since(ns, head - 1, 0).unwrap().changes.len(),
        1
    );
    put(&s, "k9", b"y");
    let fresh = LocalStore::open(dir.path().join("cloud")).unwrap();
    let page = fresh.changes_since(ns, head, 0).unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].key, "k9");
    // A cursor past the head is still refused.
    let fresh = LocalStore::open(dir.path().join("cloud")).unwrap();
    assert!(fresh
        .changes_since(ns, page.cursor + 1, 0)
        .unwrap_err()
        .is_cursor_expired());
}
