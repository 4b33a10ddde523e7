//! The asset store's speed against plain SQLite, for `bench/asset.mjs` (`npm run bench -- --only
//! asset`). N assets are added, queried by alias (the secret back, RETURN_TYPE ALL) and removed,
//! one call each, by the store behind `ohf_asset_*` (one store handle, as a C caller holds it) and,
//! as the baseline, by the same SQL on the same bundled SQLite: the core's schema and pragmas, one
//! autocommit INSERT per add, a SELECT by alias per query, a SELECT then a DELETE transaction per
//! remove, with no validation, no device state, no keys and no crypto. Runs alternate between the
//! two; each operation's best run counts. Prints one JSON line of operations per second.
//!
//! usage: asset_bench <work dir> <assets> <runs>

use std::path::{Path, PathBuf};
use std::time::Instant;

use ohfile_core::asset::{AssetMap, AssetStore, Tag, Value};
use ohfile_core::Device;
use rusqlite::{params, Connection, OptionalExtension};

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

fn alias(i: usize) -> Vec<u8> {
    format!("bench-alias-{i:06}").into_bytes()
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
fn baseline(dir: &Path, n: usize) -> [f64; 3] {
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
            alias(i).into(),
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
        values.push(secret(i).into());
        stmt.execute(rusqlite::params_from_iter(values)).unwrap();
    });
    let read_row = |i: usize| -> Option<(i64, Vec<u8>)> {
        let mut stmt = conn
            .prepare_cached("SELECT * FROM asset WHERE 1 AND alias = ?")
            .unwrap();
        stmt.query_row([alias(i)], |r| {
            // Every column, as the core reads a row.
            let mut cols: Vec<rusqlite::types::Value> = Vec::new();
            for c in 0..r.as_ref().column_count() {
                cols.push(r.get(c)?);
            }
            let secret: Vec<u8> = r.get("secret")?;
            Ok((r.get(0)?, secret))
        })
        .optional()
        .unwrap()
    };
    let query = timed(n, |i| {
        let (_, s) = read_row(i).expect("row");
        assert_eq!(s.len(), 32);
    });
    let remove = timed(n, |i| {
        let (id, _) = read_row(i).expect("row");
        let tx = conn.unchecked_transaction().unwrap();
        tx.prepare_cached("DELETE FROM asset WHERE id = ?")
            .unwrap()
            .execute(params![id])
            .unwrap();
        tx.commit().unwrap();
    });
    [add, query, remove]
}

/// [add, query, remove] seconds of the asset store on a fresh device in `dir`.
fn store(dir: &Path, n: usize) -> [f64; 3] {
    let device = Device::open(Some(dir)).expect("device");
    let store = AssetStore::open(&device, OWNER).expect("store");
    let by_alias = |i: usize| AssetMap::from([(Tag::ALIAS, Value::Bytes(alias(i)))]);
    let add = timed(n, |i| {
        let mut m = by_alias(i);
        m.insert(Tag::SECRET, Value::Bytes(secret(i)));
        store.add(&m).expect("add");
    });
    let query = timed(n, |i| {
        let mut m = by_alias(i);
        m.insert(Tag::RETURN_TYPE, Value::Number(0)); // ReturnType.ALL: the secret too
        let rows = store.query(&m).expect("query");
        assert_eq!(rows[0].get(&Tag::SECRET), Some(&Value::Bytes(secret(i))));
    });
    let remove = timed(n, |i| store.remove(&by_alias(i)).expect("remove"));
    [add, query, remove]
}

fn fresh(work: &Path, name: &str) -> PathBuf {
    let dir = work.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("work dir");
    dir
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: asset_bench <work dir> <assets> <runs>");
        std::process::exit(2);
    }
    let work = PathBuf::from(&args[1]);
    let n: usize = args[2].parse().expect("assets");
    let runs: usize = args[3].parse().expect("runs");
    let mut best_base = [f64::INFINITY; 3];
    let mut best_store = [f64::INFINITY; 3];
    for run in 0..runs {
        // Alternate who goes first.
        let mut order = [true, false];
        if run % 2 == 1 {
            order.reverse();
        }
        for is_base in order {
            let secs = if is_base {
                baseline(&fresh(&work, "baseline"), n)
            } else {
                store(&fresh(&work, "store"), n)
            };
            let best = if is_base {
                &mut best_base
            } else {
                &mut best_store
            };
            for k in 0..3 {
                best[k] = best[k].min(secs[k]);
            }
            eprintln!(
                "  run {}/{runs} {:8}: add {:.3} s, query {:.3} s, remove {:.3} s",
                run + 1,
                if is_base { "baseline" } else { "store" },
                secs[0],
                secs[1],
                secs[2]
            );
        }
    }
    let _ = std::fs::remove_dir_all(work.join("baseline"));
    let _ = std::fs::remove_dir_all(work.join("store"));
    let ops = |s: [f64; 3]| {
        format!(
            "{{\"add\":{:.1},\"query\":{:.1},\"remove\":{:.1}}}",
            n as f64 / s[0],
            n as f64 / s[1],
            n as f64 / s[2]
        )
    };
    println!(
        "{{\"assets\":{n},\"runs\":{runs},\"baseline\":{},\"store\":{}}}",
        ops(best_base),
        ops(best_store)
    );
}
