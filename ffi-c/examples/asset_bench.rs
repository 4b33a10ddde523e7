//! The asset store's speed against plain SQLite, for `bench/asset.mjs` (`npm run bench -- --only
//! asset`). N assets are added, queried by alias (the secret back, RETURN_TYPE ALL) and removed,
//! one call each, by three contestants on fresh devices:
//!
//! - `baseline`: the same SQL on the same bundled SQLite, with the core's schema and pragmas and
//!   nothing else: one autocommit INSERT per add, a SELECT of every column by alias per query, one
//!   autocommit DELETE by alias per remove (the statements the store runs). No validation, no
//!   device state, no keys, no crypto.
//! - `ndk`: OpenHarmony's NDK names, `OH_Asset_Add` / `OH_Asset_Query` (+ `OH_Asset_ParseAttr`,
//!   `OH_Asset_FreeResultSet`) / `OH_Asset_Remove`, called as a C app calls them: the app and the
//!   device come from `$OHFILE_BUNDLE` and `$OHFILE_ROOT` at each call, attributes cross as
//!   `Asset_Attr` arrays, results come back in library memory and are freed.
//! - `store`: the core's `AssetStore` held directly (what `ohf_asset_*` calls on a handle).
//!
//! Each device is made just before its run, as the Node bench does (a young device.json). Runs
//! rotate who goes first; each operation's best run counts. Prints one JSON line of operations per
//! second.
//!
//! usage: asset_bench <work dir> <assets> <runs>

use std::path::{Path, PathBuf};
use std::time::Instant;

use ohfile as _; // links the library that defines the OH_Asset_* symbols below
use ohfile_core::asset::{AssetMap, AssetStore, Tag, Value};
use ohfile_core::Device;
use rusqlite::{Connection, OptionalExtension};

const OWNER: &str = "com.bench.asset";

/// The columns of the core's asset table (core/src/asset/db.rs), created the same way.
const LABELS: [&str; 12] = [
    "critical_1",
    "critical_2",
    "critical_3",
    "critical_4",
    "normal_1",
    "normal_2",
    "normal_3",
    "normal_4",
    "local_1",
    "local_2",
    "local_3",
    "local_4",
];

// The NDK's types (include/asset/asset_type.h), as a C program sees them.
#[repr(C)]
#[derive(Clone, Copy)]
struct AssetBlob {
    size: u32,
    data: *mut u8,
}

#[repr(C)]
#[derive(Clone, Copy)]
union AssetValue {
    boolean: bool,
    u32: u32,
    blob: AssetBlob,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct AssetAttr {
    tag: u32,
    value: AssetValue,
}

#[repr(C)]
struct AssetResult {
    count: u32,
    attrs: *mut AssetAttr,
}

#[repr(C)]
struct AssetResultSet {
    count: u32,
    results: *mut AssetResult,
}

extern "C" {
    fn OH_Asset_Add(attributes: *const AssetAttr, attr_cnt: u32) -> i32;
    fn OH_Asset_Remove(query: *const AssetAttr, query_cnt: u32) -> i32;
    fn OH_Asset_Query(query: *const AssetAttr, query_cnt: u32, set: *mut AssetResultSet) -> i32;
    fn OH_Asset_ParseAttr(result: *const AssetResult, tag: u32) -> *mut AssetAttr;
    fn OH_Asset_FreeResultSet(set: *mut AssetResultSet);
}

/// The aliases and secrets of the assets, made before any clock starts (the timed loops measure
/// the calls, each with its own attribute map or array, as a caller makes one per call).
struct Inputs {
    aliases: Vec<Vec<u8>>,
    secrets: Vec<Vec<u8>>,
}

impl Inputs {
    fn new(n: usize) -> Inputs {
        Inputs {
            aliases: (0..n)
                .map(|i| format!("bench-alias-{i:06}").into_bytes())
                .collect(),
            secrets: (0..n).map(secret).collect(),
        }
    }
}

/// A 32-byte secret that differs per asset.
fn secret(i: usize) -> Vec<u8> {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..32)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Seconds for `n` calls of `f`.
fn timed(n: usize, mut f: impl FnMut(usize)) -> f64 {
    let t = Instant::now();
    for i in 0..n {
        f(i);
    }
    t.elapsed().as_secs_f64()
}

/// [add, query, remove] seconds of the baseline in `dir`.
fn baseline(dir: &Path, inp: &Inputs) -> [f64; 3] {
    let n = inp.aliases.len();
    let conn = Connection::open(dir.join("baseline.db")).expect("open");
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    let labels: String = LABELS.iter().map(|c| format!("{c} BLOB,")).collect();
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS asset (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            alias BLOB NOT NULL UNIQUE,
            alias_sealed BLOB,
            owner TEXT NOT NULL,
            origin TEXT NOT NULL,
            sync_type INTEGER NOT NULL,
            accessibility INTEGER NOT NULL,
            auth_type INTEGER NOT NULL,
            require_password_set INTEGER NOT NULL,
            is_persistent INTEGER NOT NULL,
            wrap_type INTEGER NOT NULL,
            attr_encrypted INTEGER NOT NULL,
            create_time INTEGER NOT NULL,
            update_time INTEGER NOT NULL,
            {labels}
            secret BLOB NOT NULL)"
    ))
    .unwrap();
    let insert = format!(
        "INSERT INTO asset (alias, alias_sealed, owner, origin, sync_type, accessibility, auth_type,
         require_password_set, is_persistent, wrap_type, attr_encrypted, create_time, update_time,
         {}, secret) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,{}?)",
        LABELS.join(","),
        "?,".repeat(LABELS.len())
    );
    let add = timed(n, |i| {
        let mut stmt = conn.prepare_cached(&insert).unwrap();
        let mut values: Vec<rusqlite::types::Value> = vec![
            inp.aliases[i].clone().into(),
            rusqlite::types::Value::Null,
            OWNER.to_string().into(),
            OWNER.to_string().into(),
            0i64.into(),
            1i64.into(),
            0i64.into(),
            0i64.into(),
            0i64.into(),
            0i64.into(),
            0i64.into(),
            1_700_000_000_000i64.into(),
            1_700_000_000_000i64.into(),
        ];
        values.extend(LABELS.iter().map(|_| rusqlite::types::Value::Null));
        values.push(inp.secrets[i].clone().into());
        stmt.execute(rusqlite::params_from_iter(values)).unwrap();
    });
    let query = timed(n, |i| {
        let mut stmt = conn
            .prepare_cached("SELECT * FROM asset WHERE 1 AND alias = ?")
            .unwrap();
        let s = stmt
            .query_row([&inp.aliases[i]], |r| {
                // Every column, as the store reads a row.
                let mut cols: Vec<rusqlite::types::Value> = Vec::new();
                for c in 0..r.as_ref().column_count() {
                    cols.push(r.get(c)?);
                }
                r.get::<_, Vec<u8>>("secret")
            })
            .optional()
            .unwrap()
            .expect("row");
        assert_eq!(s.len(), 32);
    });
    let remove = timed(n, |i| {
        let n = conn
            .prepare_cached("DELETE FROM asset WHERE 1 AND alias = ?")
            .unwrap()
            .execute([&inp.aliases[i]])
            .unwrap();
        assert_eq!(n, 1);
    });
    [add, query, remove]
}

/// A fresh device root in `dir` with the benchmark's app installed (as bench/asset.mjs makes one).
fn device(dir: &Path) -> Device {
    std::fs::create_dir_all(dir.join("apps").join(OWNER)).unwrap();
    std::fs::write(
        dir.join("device.json"),
        r#"{"deviceType":"default","trustGroup":"trust-group"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("apps").join(OWNER).join("bundle.json"),
        r#"{"versionCode":1,"versionName":"1"}"#,
    )
    .unwrap();
    Device::open(Some(dir)).expect("device")
}

/// [add, query, remove] seconds of the core's store on a fresh device in `dir`.
fn store(dir: &Path, inp: &Inputs) -> [f64; 3] {
    let n = inp.aliases.len();
    let store = AssetStore::shared(&device(dir), OWNER).expect("store");
    let by_alias = |i: usize| AssetMap::from([(Tag::ALIAS, Value::Bytes(inp.aliases[i].clone()))]);
    let add = timed(n, |i| {
        let mut m = by_alias(i);
        m.insert(Tag::SECRET, Value::Bytes(inp.secrets[i].clone()));
        store.add(&m).expect("add");
    });
    let query = timed(n, |i| {
        let mut m = by_alias(i);
        m.insert(Tag::RETURN_TYPE, Value::Number(0)); // ReturnType.ALL: the secret too
        let rows = store.query(&m).expect("query");
        assert_eq!(
            rows[0].get(&Tag::SECRET),
            Some(&Value::Bytes(inp.secrets[i].clone()))
        );
    });
    let remove = timed(n, |i| store.remove(&by_alias(i)).expect("remove"));
    [add, query, remove]
}

/// A bytes attribute pointing at `b` (the NDK only reads it).
fn bytes_attr(tag: u32, b: &[u8]) -> AssetAttr {
    AssetAttr {
        tag,
        value: AssetValue {
            blob: AssetBlob {
                size: b.len() as u32,
                data: b.as_ptr() as *mut u8,
            },
        },
    }
}

/// [add, query, remove] seconds of the NDK names on a fresh device in `dir`.
fn ndk(dir: &Path, inp: &Inputs) -> [f64; 3] {
    let n = inp.aliases.len();
    device(dir);
    // The calling app and its device, as OH_Asset_* finds them (read at each call).
    std::env::set_var("OHFILE_ROOT", dir);
    std::env::set_var("OHFILE_BUNDLE", OWNER);
    let add = timed(n, |i| {
        let attrs = [
            bytes_attr(Tag::SECRET, &inp.secrets[i]),
            bytes_attr(Tag::ALIAS, &inp.aliases[i]),
        ];
        assert_eq!(unsafe { OH_Asset_Add(attrs.as_ptr(), 2) }, 0, "add");
    });
    let query = timed(n, |i| {
        let attrs = [
            bytes_attr(Tag::ALIAS, &inp.aliases[i]),
            AssetAttr {
                tag: Tag::RETURN_TYPE,
                value: AssetValue { u32: 0 }, // ReturnType.ALL: the secret too
            },
        ];
        let mut set = AssetResultSet {
            count: 0,
            results: std::ptr::null_mut(),
        };
        assert_eq!(unsafe { OH_Asset_Query(attrs.as_ptr(), 2, &mut set) }, 0);
        assert_eq!(set.count, 1);
        unsafe {
            let attr = OH_Asset_ParseAttr(set.results, Tag::SECRET);
            assert!(!attr.is_null());
            let b = (*attr).value.blob;
            assert_eq!(
                std::slice::from_raw_parts(b.data, b.size as usize),
                &inp.secrets[i][..]
            );
            OH_Asset_FreeResultSet(&mut set);
        }
    });
    let remove = timed(n, |i| {
        let attrs = [bytes_attr(Tag::ALIAS, &inp.aliases[i])];
        assert_eq!(unsafe { OH_Asset_Remove(attrs.as_ptr(), 1) }, 0, "remove");
    });
    [add, query, remove]
}

fn fresh(work: &Path, name: &str) -> PathBuf {
    let dir = work.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("work dir");
    dir
}

const CONTESTANTS: [&str; 3] = ["baseline", "ndk", "store"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: asset_bench <work dir> <assets> <runs>");
        std::process::exit(2);
    }
    let work = PathBuf::from(&args[1]);
    let n: usize = args[2].parse().expect("assets");
    let runs: usize = args[3].parse().expect("runs");
    let inputs = Inputs::new(n);
    let mut best = [[f64::INFINITY; 3]; 3];
    for run in 0..runs {
        for k in 0..CONTESTANTS.len() {
            // Rotate who goes first.
            let who = (run + k) % CONTESTANTS.len();
            let name = CONTESTANTS[who];
            // A new folder name per run: the store kept for the last one stays where it was.
            let dir = fresh(&work, &format!("{name}-{run}"));
            let secs = match who {
                0 => baseline(&dir, &inputs),
                1 => ndk(&dir, &inputs),
                _ => store(&dir, &inputs),
            };
            for op in 0..3 {
                best[who][op] = best[who][op].min(secs[op]);
            }
            eprintln!(
                "  run {}/{runs} {name:8}: add {:.3} s, query {:.3} s, remove {:.3} s",
                run + 1,
                secs[0],
                secs[1],
                secs[2]
            );
        }
    }
    for run in 0..runs {
        for name in CONTESTANTS {
            let _ = std::fs::remove_dir_all(work.join(format!("{name}-{run}")));
        }
    }
    let ops = |s: [f64; 3]| {
        format!(
            "{{\"add\":{:.1},\"query\":{:.1},\"remove\":{:.1}}}",
            n as f64 / s[0],
            n as f64 / s[1],
            n as f64 / s[2]
        )
    };
    println!(
        "{{\"assets\":{n},\"runs\":{runs},\"baseline\":{},\"ndk\":{},\"store\":{}}}",
        ops(best[0]),
        ops(best[1]),
        ops(best[2])
    );
}
