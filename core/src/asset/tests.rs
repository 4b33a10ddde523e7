//! The asset store through its public API: numbers, limits, rules, storage, lock state and auth.

use std::fs;
use std::path::Path;

use super::*;
use crate::device::Device;
use crate::error::ErrorCode;

pub(super) fn device_with(json: &str) -> (tempfile::TempDir, Device) {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("device.json"), json).unwrap();
    let d = Device::open(Some(t.path())).unwrap();
    (t, d)
}

pub(super) fn set_state(root: &Path, json: &str) {
    fs::write(root.join("device.json"), json).unwrap();
}

pub(super) fn install(root: &Path, name: &str, bundle_json: &str) {
    let dir = root.join("apps").join(name);
    fs::create_dir_all(dir.join("sandbox")).unwrap();
    fs::write(dir.join("bundle.json"), bundle_json).unwrap();
}

pub(super) fn b(s: &str) -> Value {
    Value::Bytes(s.as_bytes().to_vec())
}

pub(super) fn m(pairs: &[(u32, Value)]) -> AssetMap {
    pairs.iter().cloned().collect()
}

pub(super) fn code<T: std::fmt::Debug>(r: crate::error::Result<T>) -> i32 {
    r.unwrap_err().code().code()
}

pub(super) fn secret_of(s: &AssetStore, alias: &str) -> crate::error::Result<Vec<u8>> {
    let rows = s.query(&m(&[
        (Tag::ALIAS, b(alias)),
        (Tag::RETURN_TYPE, Value::Number(ReturnType::All as u32)),
    ]))?;
    assert_eq!(rows.len(), 1);
    match rows[0].get(&Tag::SECRET) {
        Some(Value::Bytes(v)) => Ok(v.clone()),
        other => panic!("no secret: {other:?}"),
    }
}

fn store() -> (tempfile::TempDir, Device, AssetStore) {
    let (t, d) = device_with("{}");
    install(
        t.path(),
        "com.example.app",
        r#"{"versionCode":1,"versionName":"1"}"#,
    );
    let s = AssetStore::open(&d, "com.example.app").unwrap();
    (t, d, s)
}

fn add(s: &AssetStore, alias: &str, secret: &str) -> crate::error::Result<()> {
    s.add(&m(&[(Tag::ALIAS, b(alias)), (Tag::SECRET, b(secret))]))
}

#[test]
fn every_tag_and_enum_has_the_published_number() {
    let expected: &[(&str, u32)] = &[
        ("SECRET", 0x3000_0001),
        ("ALIAS", 0x3000_0002),
        ("ACCESSIBILITY", 0x2000_0003),
        ("REQUIRE_PASSWORD_SET", 0x1000_0004),
        ("AUTH_TYPE", 0x2000_0005),
        ("AUTH_VALIDITY_PERIOD", 0x2000_0006),
        ("AUTH_CHALLENGE", 0x3000_0007),
        ("AUTH_TOKEN", 0x3000_0008),
        ("SYNC_TYPE", 0x2000_0010),
        ("IS_PERSISTENT", 0x1000_0011),
        ("DATA_LABEL_CRITICAL_1", 0x3000_0020),
        ("DATA_LABEL_CRITICAL_2", 0x3000_0021),
        ("DATA_LABEL_CRITICAL_3", 0x3000_0022),
        ("DATA_LABEL_CRITICAL_4", 0x3000_0023),
        ("DATA_LABEL_NORMAL_1", 0x3000_0030),
        ("DATA_LABEL_NORMAL_2", 0x3000_0031),
        ("DATA_LABEL_NORMAL_3", 0x3000_0032),
        ("DATA_LABEL_NORMAL_4", 0x3000_0033),
        ("DATA_LABEL_NORMAL_LOCAL_1", 0x3000_0034),
        ("DATA_LABEL_NORMAL_LOCAL_2", 0x3000_0035),
        ("DATA_LABEL_NORMAL_LOCAL_3", 0x3000_0036),
        ("DATA_LABEL_NORMAL_LOCAL_4", 0x3000_0037),
        ("RETURN_TYPE", 0x2000_0040),
        ("RETURN_LIMIT", 0x2000_0041),
        ("RETURN_OFFSET", 0x2000_0042),
        ("RETURN_ORDERED_BY", 0x2000_0043),
        ("CONFLICT_RESOLUTION", 0x2000_0044),
        ("UPDATE_TIME", 0x3000_0045),
        ("OPERATION_TYPE", 0x2000_0046),
        ("REQUIRE_ATTR_ENCRYPTED", 0x1000_0047),
        ("GROUP_ID", 0x3000_0048),
        ("WRAP_TYPE", 0x2000_0049),
    ];
    assert_eq!(all_tags(), expected);
    assert_eq!(Tag::SECRET, 805306369);
    assert_eq!(Tag::WRAP_TYPE, 536870985);
    assert_eq!(Tag::GROUP_ID, 805306440);
    for (name, tag) in all_tags() {
        assert_eq!(tag_name(*tag), Some(*name));
        assert!(TagType::of(*tag).is_some(), "{name} has a type nibble");
    }
    assert_eq!(
        [
            TagType::Bool as u32,
            TagType::Number as u32,
            TagType::Bytes as u32
        ],
        [268435456, 536870912, 805306368]
    );
    let names = |all: &[(&'static str, u32)]| all.to_vec();
    assert_eq!(
        names(
            &Accessibility::ALL
                .iter()
                .map(|(n, v)| (*n, *v as u32))
                .collect::<Vec<_>>()
        ),
        [
            ("DEVICE_POWERED_ON", 0),
            ("DEVICE_FIRST_UNLOCKED", 1),
            ("DEVICE_UNLOCKED", 2)
        ]
    );
    assert_eq!(
        AuthType::ALL
            .iter()
            .map(|(n, v)| (*n, *v as u32))
            .collect::<Vec<_>>(),
        [("NONE", 0x00), ("ANY", 0xFF)]
    );
    assert_eq!(
        SyncType::ALL,
        [
            ("NEVER", 0),
            ("THIS_DEVICE", 1),
            ("TRUSTED_DEVICE", 2),
            ("TRUSTED_ACCOUNT", 4)
        ]
    );
    assert_eq!(
        ConflictResolution::ALL
            .iter()
            .map(|(n, v)| (*n, *v as u32))
            .collect::<Vec<_>>(),
        [("OVERWRITE", 0), ("THROW_ERROR", 1)]
    );
    assert_eq!(
        ReturnType::ALL
            .iter()
            .map(|(n, v)| (*n, *v as u32))
            .collect::<Vec<_>>(),
        [("ALL", 0), ("ATTRIBUTES", 1)]
    );
    assert_eq!(
        OperationType::ALL
            .iter()
            .map(|(n, v)| (*n, *v as u32))
            .collect::<Vec<_>>(),
        [("NEED_SYNC", 0), ("NEED_LOGOUT", 1)]
    );
    assert_eq!(
        WrapType::ALL
            .iter()
            .map(|(n, v)| (*n, *v as u32))
            .collect::<Vec<_>>(),
        [("NEVER", 0), ("TRUSTED_ACCOUNT", 1)]
    );
    let asset_codes: Vec<(i32, &str)> = (24000001..=24000019)
        .map(|c| {
            let e = ErrorCode::from_code(c).unwrap();
            (c, e.c_name())
        })
        .collect();
    assert_eq!(asset_codes[0], (24000001, "ASSET_SERVICE_UNAVAILABLE"));
    assert_eq!(asset_codes[16], (24000017, "ASSET_UNSUPPORTED"));
    assert_eq!(
        asset_codes[17],
        (24000018, "ASSET_PARAM_VERIFICATION_FAILED")
    );
    for c in [201, 202, 401] {
        assert!(ErrorCode::from_code(c).is_some());
    }
}

#[test]
fn each_limit_is_checked_at_its_boundary() {
    let (t, _d, s) = store();
    let n = |len: usize| Value::Bytes(vec![b'x'; len]);
    // Secret 1..=1024.
    for (len, ok) in [(0, false), (1, true), (1024, true), (1025, false)] {
        let r = s.add(&m(&[
            (Tag::ALIAS, b(&format!("s{len}"))),
            (Tag::SECRET, n(len)),
        ]));
        assert_eq!(r.is_ok(), ok, "secret of {len}: {r:?}");
        if !ok {
            assert_eq!(code(r), 401);
        }
    }
    // Alias 1..=256.
    for (len, ok) in [(0, false), (1, true), (256, true), (257, false)] {
        let r = s.add(&m(&[(Tag::ALIAS, n(len)), (Tag::SECRET, b("x"))]));
        assert_eq!(r.is_ok(), ok, "alias of {len}");
    }
    // Labels up to 2048, every kind.
    for tag in [
        Tag::DATA_LABEL_CRITICAL_1,
        Tag::DATA_LABEL_NORMAL_4,
        Tag::DATA_LABEL_NORMAL_LOCAL_2,
    ] {
        for (len, ok) in [(0, false), (2048, true), (2049, false)] {
            let r = s.add(&m(&[
                (Tag::ALIAS, b(&format!("l{tag}-{len}"))),
                (Tag::SECRET, b("x")),
                (tag, n(len)),
            ]));
            assert_eq!(r.is_ok(), ok, "label {tag:#x} of {len}");
        }
    }
    // SYNC_TYPE is a mask below 8.
    for (v, ok) in [(7, true), (8, false)] {
        let r = s.add(&m(&[
            (Tag::ALIAS, b(&format!("sync{v}"))),
            (Tag::SECRET, b("x")),
            (Tag::SYNC_TYPE, Value::Number(v)),
        ]));
        assert_eq!(r.is_ok(), ok, "sync type {v}");
    }
    // Enum members.
    for (tag, bad) in [
        (Tag::ACCESSIBILITY, 3),
        (Tag::AUTH_TYPE, 1),
        (Tag::CONFLICT_RESOLUTION, 2),
        (Tag::WRAP_TYPE, 2),
        (Tag::OPERATION_TYPE, 2),
    ] {
        let r = s.add(&m(&[
            (Tag::ALIAS, b("enum")),
            (Tag::SECRET, b("x")),
            (tag, Value::Number(bad)),
        ]));
        assert_eq!(code(r), 401, "{tag:#x} = {bad}");
    }
    // RETURN_LIMIT 1..=65536, RETURN_TYPE, RETURN_ORDERED_BY a label.
    for (v, ok) in [(0, false), (1, true), (65536, true), (65537, false)] {
        let r = s.query(&m(&[(Tag::RETURN_LIMIT, Value::Number(v))]));
        assert_eq!(r.is_ok(), ok, "limit {v}: {r:?}");
    }
    assert_eq!(
        code(s.query(&m(&[(Tag::RETURN_TYPE, Value::Number(2))]))),
        401
    );
    assert_eq!(
        code(s.query(&m(&[(Tag::RETURN_ORDERED_BY, Value::Number(Tag::ALIAS))]))),
        401
    );
    assert!(s
        .query(&m(&[(
            Tag::RETURN_ORDERED_BY,
            Value::Number(Tag::DATA_LABEL_NORMAL_LOCAL_4)
        )]))
        .is_ok());
    // AUTH_VALIDITY_PERIOD 1..=600 (checked before any lookup).
    for (v, want) in [(0, 401), (1, 24000002), (600, 24000002), (601, 401)] {
        let r = s.pre_query(&m(&[(Tag::AUTH_VALIDITY_PERIOD, Value::Number(v))]));
        assert_eq!(code(r), want, "validity {v}");
    }
    // AUTH_CHALLENGE exactly 32, AUTH_TOKEN exactly 344.
    for (len, want) in [(31, Some(401)), (32, None), (33, Some(401))] {
        let r = s.post_query(&m(&[(Tag::AUTH_CHALLENGE, n(len))]));
        assert_eq!(r.err().map(|e| e.code().code()), want, "challenge of {len}");
    }
    for (len, want) in [(343, 401), (344, 24000002), (345, 401)] {
        let r = s.query(&m(&[
            (Tag::ALIAS, b("nope")),
            (Tag::RETURN_TYPE, Value::Number(0)),
            (Tag::AUTH_CHALLENGE, n(32)),
            (Tag::AUTH_TOKEN, n(len)),
        ]));
        assert_eq!(code(r), want, "token of {len}");
    }
    // GROUP_ID 7..=127.
    let g = |len: usize| String::from_utf8(vec![b'g'; len]).unwrap();
    install(
        t.path(),
        "com.example.group",
        &format!(
            r#"{{"versionCode":1,"versionName":"1","assetAccessGroups":["{}","{}","{}","{}"]}}"#,
            g(6),
            g(7),
            g(127),
            g(128)
        ),
    );
    let grouped = AssetStore::open(&_d, "com.example.group").unwrap();
    for (len, ok) in [(6, false), (7, true), (127, true), (128, false)] {
        let r = grouped.add(&m(&[
            (Tag::ALIAS, b("a")),
            (Tag::SECRET, b("x")),
            (Tag::GROUP_ID, Value::Bytes(g(len).into_bytes())),
        ]));
        assert_eq!(r.is_ok(), ok, "group of {len}: {r:?}");
    }
}

#[test]
fn each_function_takes_only_its_tags_and_the_right_value_types() {
    let (_t, _d, s) = store();
    add(&s, "a", "x").unwrap();
    let num = |v| Value::Number(v);
    // Wrong value type, unknown tag: 401.
    assert_eq!(
        code(s.add(&m(&[(Tag::ALIAS, num(1)), (Tag::SECRET, b("x"))]))),
        401
    );
    assert_eq!(
        code(s.add(&m(&[
            (Tag::ALIAS, b("b")),
            (Tag::SECRET, b("x")),
            (Tag::IS_PERSISTENT, num(1))
        ]))),
        401
    );
    assert_eq!(
        code(s.query(&m(&[(0x2000_0100, num(100))]))),
        401,
        "USER_ID is not public"
    );
    assert_eq!(code(s.query(&m(&[(0x3000_00ff, b("?"))]))), 401);
    // add: SECRET and ALIAS required; no query-only tags.
    assert_eq!(code(s.add(&m(&[(Tag::ALIAS, b("b"))]))), 401);
    assert_eq!(code(s.add(&m(&[(Tag::SECRET, b("x"))]))), 401);
    assert_eq!(
        code(s.add(&m(&[
            (Tag::ALIAS, b("b")),
            (Tag::SECRET, b("x")),
            (Tag::RETURN_LIMIT, num(1))
        ]))),
        401
    );
    // remove: no SECRET.
    assert_eq!(code(s.remove(&m(&[(Tag::SECRET, b("x"))]))), 401);
    // update: the query needs ALIAS; only normal/local labels, SECRET and OPERATION_TYPE change.
    let upd = m(&[(Tag::DATA_LABEL_NORMAL_1, b("n"))]);
    assert_eq!(code(s.update(&m(&[]), &upd)), 401);
    assert_eq!(code(s.update(&m(&[(Tag::SECRET, b("x"))]), &upd)), 401);
    let q = m(&[(Tag::ALIAS, b("a"))]);
    assert_eq!(code(s.update(&q, &m(&[]))), 401, "empty update");
    for tag in [Tag::DATA_LABEL_CRITICAL_1, Tag::ALIAS] {
        assert_eq!(code(s.update(&q, &m(&[(tag, b("c"))]))), 401);
    }
    assert_eq!(code(s.update(&q, &m(&[(Tag::SYNC_TYPE, num(2))]))), 401);
    // preQuery: no AUTH_TYPE NONE, no return options.
    assert_eq!(code(s.pre_query(&m(&[(Tag::AUTH_TYPE, num(0))]))), 401);
    assert_eq!(code(s.pre_query(&m(&[(Tag::RETURN_LIMIT, num(1))]))), 401);
    // query: no SECRET; challenge and token go together.
    assert_eq!(code(s.query(&m(&[(Tag::SECRET, b("x"))]))), 401);
    assert_eq!(
        code(s.query(&m(&[(Tag::AUTH_CHALLENGE, Value::Bytes(vec![0; 32]))]))),
        401
    );
    // postQuery: AUTH_CHALLENGE only.
    assert_eq!(code(s.post_query(&m(&[]))), 401);
    assert_eq!(
        code(s.post_query(&m(&[
            (Tag::AUTH_CHALLENGE, Value::Bytes(vec![0; 32])),
            (Tag::ALIAS, b("a"))
        ]))),
        401
    );
    // querySyncResult: GROUP_ID and REQUIRE_ATTR_ENCRYPTED only, and every problem is 24000018.
    assert_eq!(
        s.query_sync_result(&m(&[])).unwrap(),
        SyncResult::new(0, 0, 0)
    );
    assert_eq!(
        s.query_sync_result(&m(&[(Tag::REQUIRE_ATTR_ENCRYPTED, Value::Bool(true))]))
            .unwrap(),
        SyncResult {
            result_code: 0,
            total_count: Some(0),
            failed_count: Some(0)
        }
    );
    for bad in [
        m(&[(Tag::ALIAS, b("a"))]),
        m(&[(Tag::SECRET, b("a"))]),
        m(&[(Tag::SYNC_TYPE, num(2))]),
        m(&[(Tag::REQUIRE_ATTR_ENCRYPTED, b("x"))]),
        m(&[(Tag::REQUIRE_ATTR_ENCRYPTED, num(1))]),
        m(&[(Tag::GROUP_ID, num(1))]),
        m(&[(Tag::GROUP_ID, b("short"))]),
        m(&[(Tag::GROUP_ID, b("undeclared_group"))]),
    ] {
        assert_eq!(code(s.query_sync_result(&bad)), 24000018, "{bad:?}");
    }
}

#[test]
fn duplicate_overwrite_missing_and_unsupported() {
    let (t, d, s) = store();
    add(&s, "a", "one").unwrap();
    assert_eq!(code(add(&s, "a", "two")), 24000003);
    s.add(&m(&[
        (Tag::ALIAS, b("a")),
        (Tag::SECRET, b("two")),
        (
            Tag::CONFLICT_RESOLUTION,
            Value::Number(ConflictResolution::ThrowError as u32),
        ),
    ]))
    .unwrap_err();
    assert_eq!(secret_of(&s, "a").unwrap(), b"one");
    s.add(&m(&[
        (Tag::ALIAS, b("a")),
        (Tag::SECRET, b("two")),
        (
            Tag::CONFLICT_RESOLUTION,
            Value::Number(ConflictResolution::Overwrite as u32),
        ),
    ]))
    .unwrap();
    assert_eq!(secret_of(&s, "a").unwrap(), b"two");
    assert_eq!(code(s.remove(&m(&[(Tag::ALIAS, b("zz"))]))), 24000002);
    assert_eq!(code(s.query(&m(&[(Tag::ALIAS, b("zz"))]))), 24000002);
    assert_eq!(
        code(s.update(&m(&[(Tag::ALIAS, b("zz"))]), &m(&[(Tag::SECRET, b("q"))]))),
        24000002
    );
    assert_eq!(
        code(s.query(&m(&[(Tag::RETURN_TYPE, Value::Number(0))]))),
        24000017
    );
    s.remove(&m(&[(Tag::ALIAS, b("a"))])).unwrap();
    assert_eq!(code(secret_of(&s, "a")), 24000002);
    // Aliases are per owner: another app may use the same one.
    let other = AssetStore::open(&d, "com.example.other").unwrap();
    add(&other, "a", "mine").unwrap();
    add(&s, "a", "yours").unwrap();
    assert_eq!(secret_of(&other, "a").unwrap(), b"mine");
    // IS_PERSISTENT needs STORE_PERSISTENT_DATA.
    let persist = m(&[
        (Tag::ALIAS, b("p")),
        (Tag::SECRET, b("x")),
        (Tag::IS_PERSISTENT, Value::Bool(false)),
    ]);
    assert_eq!(code(s.add(&persist)), 201);
    install(
        t.path(),
        "com.example.keeper",
        r#"{"versionCode":1,"versionName":"1","requestPermissions":[{"name":"ohos.permission.STORE_PERSISTENT_DATA"}]}"#,
    );
    AssetStore::open(&d, "com.example.keeper")
        .unwrap()
        .add(&persist)
        .unwrap();
    assert_eq!(
        code(AssetStore::open(&d, "../etc")),
        401,
        "the owner is a bundle name"
    );
}

fn label_of(row: &AssetMap, tag: u32) -> Option<String> {
    match row.get(&tag) {
        Some(Value::Bytes(v)) => Some(String::from_utf8(v.clone()).unwrap()),
        _ => None,
    }
}

#[test]
fn queries_filter_order_limit_and_offset() {
    let (_t, _d, s) = store();
    for (i, label) in ["delta", "alpha", "echo", "charlie", "bravo"]
        .iter()
        .enumerate()
    {
        s.add(&m(&[
            (Tag::ALIAS, b(&format!("a{i}"))),
            (Tag::SECRET, b("x")),
            (Tag::DATA_LABEL_NORMAL_1, b(label)),
            (
                Tag::DATA_LABEL_CRITICAL_2,
                b(if i % 2 == 0 { "even" } else { "odd" }),
            ),
            (Tag::SYNC_TYPE, Value::Number(if i < 2 { 3 } else { 1 })),
        ]))
        .unwrap();
    }
    let all = s.query(&m(&[])).unwrap();
    assert_eq!(all.len(), 5);
    assert!(
        all.iter().all(|r| !r.contains_key(&Tag::SECRET)),
        "attributes only"
    );
    let aliases = |rows: &[AssetMap]| {
        rows.iter()
            .map(|r| label_of(r, Tag::ALIAS).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        aliases(&all),
        ["a0", "a1", "a2", "a3", "a4"],
        "insertion order"
    );
    let ordered = s
        .query(&m(&[(
            Tag::RETURN_ORDERED_BY,
            Value::Number(Tag::DATA_LABEL_NORMAL_1),
        )]))
        .unwrap();
    assert_eq!(
        ordered
            .iter()
            .map(|r| label_of(r, Tag::DATA_LABEL_NORMAL_1).unwrap())
            .collect::<Vec<_>>(),
        ["alpha", "bravo", "charlie", "delta", "echo"]
    );
    let page = s
        .query(&m(&[
            (
                Tag::RETURN_ORDERED_BY,
                Value::Number(Tag::DATA_LABEL_NORMAL_1),
            ),
            (Tag::RETURN_LIMIT, Value::Number(2)),
            (Tag::RETURN_OFFSET, Value::Number(2)),
        ]))
        .unwrap();
    assert_eq!(
        page.iter()
            .map(|r| label_of(r, Tag::DATA_LABEL_NORMAL_1).unwrap())
            .collect::<Vec<_>>(),
        ["charlie", "delta"]
    );
    assert_eq!(
        s.query(&m(&[(Tag::RETURN_OFFSET, Value::Number(0))]))
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        code(s.query(&m(&[(Tag::RETURN_OFFSET, Value::Number(5))]))),
        24000002
    );
    let even = s
        .query(&m(&[(Tag::DATA_LABEL_CRITICAL_2, b("even"))]))
        .unwrap();
    assert_eq!(aliases(&even), ["a0", "a2", "a4"]);
    // SyncType is a mask: stored 3 matches 1 and 2; stored 1 does not match 3.
    assert_eq!(
        s.query(&m(&[(Tag::SYNC_TYPE, Value::Number(2))]))
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.query(&m(&[(Tag::SYNC_TYPE, Value::Number(1))]))
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        s.query(&m(&[(Tag::SYNC_TYPE, Value::Number(3))]))
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        code(s.query(&m(&[(Tag::SYNC_TYPE, Value::Number(7))]))),
        24000002
    );
    // Defaults come back; UPDATE_TIME is ASCII milliseconds.
    let one = &all[0];
    assert_eq!(one.get(&Tag::ACCESSIBILITY), Some(&Value::Number(1)));
    assert_eq!(one.get(&Tag::AUTH_TYPE), Some(&Value::Number(0)));
    assert_eq!(
        one.get(&Tag::REQUIRE_PASSWORD_SET),
        Some(&Value::Bool(false))
    );
    assert_eq!(one.get(&Tag::IS_PERSISTENT), Some(&Value::Bool(false)));
    let t0: u64 = label_of(one, Tag::UPDATE_TIME).unwrap().parse().unwrap();
    assert!(t0 > 1_600_000_000_000);
    // Normal labels update and move UPDATE_TIME on; local labels alone do not.
    let q = m(&[(Tag::ALIAS, b("a0"))]);
    s.update(&q, &m(&[(Tag::DATA_LABEL_NORMAL_LOCAL_1, b("here"))]))
        .unwrap();
    let r = &s.query(&q).unwrap()[0];
    assert_eq!(
        label_of(r, Tag::DATA_LABEL_NORMAL_LOCAL_1).as_deref(),
        Some("here")
    );
    assert_eq!(
        label_of(r, Tag::UPDATE_TIME)
            .unwrap()
            .parse::<u64>()
            .unwrap(),
        t0
    );
    s.update(
        &q,
        &m(&[
            (Tag::DATA_LABEL_NORMAL_1, b("zulu")),
            (Tag::SECRET, b("new")),
        ]),
    )
    .unwrap();
    let r = &s.query(&q).unwrap()[0];
    assert_eq!(
        label_of(r, Tag::DATA_LABEL_NORMAL_1).as_deref(),
        Some("zulu")
    );
    assert!(
        label_of(r, Tag::UPDATE_TIME)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > t0
    );
    assert_eq!(secret_of(&s, "a0").unwrap(), b"new");
    // Remove by label removes every match.
    s.remove(&m(&[(Tag::DATA_LABEL_CRITICAL_2, b("odd"))]))
        .unwrap();
    assert_eq!(aliases(&s.query(&m(&[])).unwrap()), ["a0", "a2", "a4"]);
}

fn db_file(root: &Path, name: &str) -> std::path::PathBuf {
    root.join("state/asset/db").join(name)
}

fn sql(root: &Path, name: &str, stmt: &str) {
    let c = rusqlite::Connection::open(db_file(root, name)).unwrap();
    c.execute_batch(stmt).unwrap();
}

#[test]
fn tampering_a_critical_label_or_the_owner_is_detected_a_normal_label_is_not() {
    let (t, d, s) = store();
    for alias in ["crit", "own", "norm"] {
        s.add(&m(&[
            (Tag::ALIAS, b(alias)),
            (Tag::SECRET, b("TOPSECRET-42")),
            (Tag::DATA_LABEL_CRITICAL_1, b("bound")),
            (Tag::DATA_LABEL_NORMAL_1, b("free")),
        ]))
        .unwrap();
    }
    let file = "app_com.example.app.db";
    let raw = fs::read(db_file(t.path(), file)).unwrap();
    assert!(
        !raw.windows(12).any(|w| w == b"TOPSECRET-42"),
        "the secret is sealed at rest"
    );
    sql(
        t.path(),
        file,
        "UPDATE asset SET critical_1 = x'626f756e64ff' WHERE alias = x'63726974'",
    );
    sql(
        t.path(),
        file,
        "UPDATE asset SET owner = 'app:com.example.evil' WHERE alias = x'6f776e'",
    );
    sql(
        t.path(),
        file,
        "UPDATE asset SET normal_1 = x'65646974' WHERE alias = x'6e6f726d'",
    );
    // A fresh store (nothing cached) reads the edited file.
    let s = AssetStore::open(&d, "com.example.app").unwrap();
    assert_eq!(code(secret_of(&s, "crit")), 24000007);
    assert_eq!(code(secret_of(&s, "own")), 24000007);
    assert_eq!(secret_of(&s, "norm").unwrap(), b"TOPSECRET-42");
    let q = s.query(&m(&[(Tag::ALIAS, b("norm"))])).unwrap();
    assert_eq!(
        label_of(&q[0], Tag::DATA_LABEL_NORMAL_1).as_deref(),
        Some("edit")
    );
    // Moving a sealed secret to another row is caught as well.
    sql(
        t.path(),
        file,
        "UPDATE asset SET secret = (SELECT secret FROM asset WHERE alias = x'6e6f726d') WHERE alias = x'63726974'",
    );
    assert_eq!(code(secret_of(&s, "crit")), 24000007);
}

#[test]
fn encrypted_attributes_are_sealed_at_rest_and_still_queryable() {
    let (t, _d, s) = store();
    let enc = (Tag::REQUIRE_ATTR_ENCRYPTED, Value::Bool(true));
    s.add(&m(&[
        (Tag::ALIAS, b("hidden-alias")),
        (Tag::SECRET, b("x")),
        (Tag::DATA_LABEL_NORMAL_2, b("hidden-label")),
        enc.clone(),
    ]))
    .unwrap();
    s.add(&m(&[
        (Tag::ALIAS, b("hidden-alias")),
        (Tag::SECRET, b("y")),
    ]))
    .unwrap();
    let raw = fs::read(db_file(t.path(), "enc_app_com.example.app.db")).unwrap();
    for needle in [&b"hidden-alias"[..], b"hidden-label"] {
        assert!(!raw.windows(needle.len()).any(|w| w == needle));
    }
    assert_eq!(
        code(add_enc_dup(&s)),
        24000003,
        "aliases stay unique when sealed"
    );
    let rows = s
        .query(&m(&[
            (Tag::DATA_LABEL_NORMAL_2, b("hidden-label")),
            enc.clone(),
        ]))
        .unwrap();
    assert_eq!(
        label_of(&rows[0], Tag::ALIAS).as_deref(),
        Some("hidden-alias")
    );
    assert_eq!(
        s.query(&m(&[])).unwrap().len(),
        1,
        "the plain bucket is separate"
    );
    sql(
        t.path(),
        "enc_app_com.example.app.db",
        "UPDATE asset SET normal_2 = alias_sealed",
    );
    assert_eq!(code(s.query(&m(&[enc]))), 24000007);
}

fn add_enc_dup(s: &AssetStore) -> crate::error::Result<()> {
    s.add(&m(&[
        (Tag::ALIAS, b("hidden-alias")),
        (Tag::SECRET, b("z")),
        (Tag::REQUIRE_ATTR_ENCRYPTED, Value::Bool(true)),
    ]))
}

const LOCKED: &str = r#"{"lockScreenPasswordSet": true, "screenLocked": true}"#;
const UNLOCKED: &str = r#"{"lockScreenPasswordSet": true, "screenLocked": false}"#;

#[test]
fn lock_state_and_password_rules() {
    let (t, d, s) = store();
    let unlocked_only = |alias: &str| {
        m(&[
            (Tag::ALIAS, b(alias)),
            (Tag::SECRET, b("x")),
            (
                Tag::ACCESSIBILITY,
                Value::Number(Accessibility::DeviceUnlocked as u32),
            ),
        ])
    };
    // Without a password the lock protects nothing: DEVICE_UNLOCKED behaves like POWERED_ON.
    set_state(
        t.path(),
        r#"{"screenLocked": true, "unlockedSinceBoot": false}"#,
    );
    s.add(&unlocked_only("u0")).unwrap();
    assert_eq!(secret_of(&s, "u0").unwrap(), b"x");
    set_state(t.path(), LOCKED);
    assert_eq!(code(s.add(&unlocked_only("u1"))), 24000005);
    assert_eq!(code(secret_of(&s, "u0")), 24000005);
    assert_eq!(
        s.query(&m(&[(Tag::ALIAS, b("u0"))])).unwrap().len(),
        1,
        "attributes need no key"
    );
    add(&s, "first", "f").unwrap();
    assert_eq!(
        secret_of(&s, "first").unwrap(),
        b"f",
        "FIRST_UNLOCKED stays readable when locked"
    );
    set_state(t.path(), UNLOCKED);
    assert_eq!(secret_of(&s, "u0").unwrap(), b"x");
    // Before the first unlock only DEVICE_POWERED_ON is readable.
    set_state(
        t.path(),
        r#"{"lockScreenPasswordSet": true, "screenLocked": true, "unlockedSinceBoot": false}"#,
    );
    assert_eq!(code(secret_of(&s, "first")), 24000005);
    s.add(&m(&[
        (Tag::ALIAS, b("boot")),
        (Tag::SECRET, b("b")),
        (
            Tag::ACCESSIBILITY,
            Value::Number(Accessibility::DevicePoweredOn as u32),
        ),
    ]))
    .unwrap();
    assert_eq!(secret_of(&s, "boot").unwrap(), b"b");
    assert_eq!(
        code(s.query(&m(&[(Tag::REQUIRE_ATTR_ENCRYPTED, Value::Bool(true))]))),
        24000005,
        "encrypted attributes need the first unlock"
    );
    // REQUIRE_PASSWORD_SET.
    let needs_pw = m(&[
        (Tag::ALIAS, b("pw")),
        (Tag::SECRET, b("p")),
        (Tag::REQUIRE_PASSWORD_SET, Value::Bool(true)),
    ]);
    set_state(t.path(), "{}");
    assert_eq!(code(s.add(&needs_pw)), 24000005);
    set_state(t.path(), UNLOCKED);
    s.add(&needs_pw).unwrap();
    assert_eq!(secret_of(&s, "pw").unwrap(), b"p");
    set_state(t.path(), "{}");
    assert_eq!(
        code(secret_of(&s, "pw")),
        24000005,
        "the password was removed"
    );
    set_state(t.path(), r#"{"screenLocked": "yes"}"#);
    assert_eq!(code(add(&s, "z", "z")), 401);
    let _ = d;
}

fn auth_asset(alias: &str, accessibility: Accessibility) -> AssetMap {
    m(&[
        (Tag::ALIAS, b(alias)),
        (Tag::SECRET, b(&format!("secret-of-{alias}"))),
        (Tag::AUTH_TYPE, Value::Number(AuthType::Any as u32)),
        (Tag::ACCESSIBILITY, Value::Number(accessibility as u32)),
    ])
}

fn auth_query(alias: &str, challenge: &[u8], token: &[u8]) -> AssetMap {
    m(&[
        (Tag::ALIAS, b(alias)),
        (Tag::RETURN_TYPE, Value::Number(ReturnType::All as u32)),
        (Tag::AUTH_CHALLENGE, Value::Bytes(challenge.to_vec())),
        (Tag::AUTH_TOKEN, Value::Bytes(token.to_vec())),
    ])
}

#[test]
fn user_authentication_flow() {
    let (t, d, s) = store();
    assert_eq!(
        code(s.add(&auth_asset("pin", Accessibility::DeviceFirstUnlocked))),
        24000005,
        "no credential without a lock-screen password"
    );
    set_state(t.path(), UNLOCKED);
    s.add(&auth_asset("pin", Accessibility::DeviceFirstUnlocked))
        .unwrap();
    s.add(&auth_asset("pin2", Accessibility::DeviceFirstUnlocked))
        .unwrap();
    assert_eq!(code(secret_of(&s, "pin")), 401, "needs challenge and token");
    assert_eq!(code(s.pre_query(&m(&[(Tag::ALIAS, b("none"))]))), 24000002);
    let challenge = s.pre_query(&m(&[])).unwrap();
    assert_eq!(challenge.len(), 32);
    let token = authenticate_user(&d, "com.example.app", &challenge).unwrap();
    assert_eq!(token.len(), AUTH_TOKEN_LEN);
    // A second store object (as another process would) honours the same session.
    let s2 = AssetStore::open(&d, "com.example.app").unwrap();
    for (store, alias) in [(&s, "pin"), (&s2, "pin2")] {
        let rows = store.query(&auth_query(alias, &challenge, &token)).unwrap();
        assert_eq!(
            rows[0].get(&Tag::SECRET),
            Some(&Value::Bytes(format!("secret-of-{alias}").into_bytes()))
        );
    }
    let mut forged = token.clone();
    forged[100] ^= 1;
    assert_eq!(
        code(s.query(&auth_query("pin", &challenge, &forged))),
        24000004
    );
    // A token for another app, were one minted, opens nothing of this one.
    let keys = SoftwareKeyStore::open(&d).unwrap();
    let other_app = super::auth::mint_token(&keys, "com.example.other", &challenge, 0).unwrap();
    assert_eq!(
        code(s.query(&auth_query("pin", &challenge, &other_app))),
        24000004
    );
    let other_challenge = s.pre_query(&m(&[])).unwrap();
    let wrong = authenticate_user(&d, "com.example.app", &other_challenge).unwrap();
    assert_eq!(
        code(s.query(&auth_query("pin", &challenge, &wrong))),
        24000004
    );
    s.post_query(&m(&[(
        Tag::AUTH_CHALLENGE,
        Value::Bytes(challenge.clone()),
    )]))
    .unwrap();
    assert_eq!(
        code(s.query(&auth_query("pin", &challenge, &token))),
        24000002,
        "the session is closed"
    );
    // Mixed access-control types cannot share a session.
    s.add(&auth_asset("locked-pin", Accessibility::DeviceUnlocked))
        .unwrap();
    assert_eq!(code(s.pre_query(&m(&[]))), 24000017);
    assert!(s.pre_query(&m(&[(Tag::ALIAS, b("locked-pin"))])).is_ok());
    set_state(t.path(), LOCKED);
    assert_eq!(
        code(s.pre_query(&m(&[(Tag::ALIAS, b("locked-pin"))]))),
        24000005
    );
    set_state(t.path(), "{}");
    assert_eq!(
        code(authenticate_user(&d, "com.example.app", &other_challenge)),
        24000005
    );
    assert_eq!(
        code(authenticate_user(&d, "com.example.app", &[0; 31])),
        401
    );
}

#[test]
fn a_token_is_issued_only_for_an_open_session_of_the_same_app() {
    let (t, d, s) = store();
    set_state(t.path(), UNLOCKED);
    s.add(&auth_asset("pin", Accessibility::DeviceFirstUnlocked))
        .unwrap();
    let other = AssetStore::open(&d, "com.example.other").unwrap();
    other
        .add(&auth_asset("pin", Accessibility::DeviceFirstUnlocked))
        .unwrap();
    let app = "com.example.app";
    assert_eq!(
        code(authenticate_user(&d, app, &[7u8; 32])),
        24000004,
        "a value no preQuery issued"
    );
    let challenge = s.pre_query(&m(&[])).unwrap();
    let theirs = other.pre_query(&m(&[])).unwrap();
    assert_eq!(
        code(authenticate_user(&d, app, &theirs)),
        24000004,
        "another app's challenge"
    );
    assert_eq!(
        code(authenticate_user(&d, "com.example.other", &challenge)),
        24000004,
        "this app's challenge for another app"
    );
    let token = authenticate_user(&d, app, &challenge).unwrap();
    assert!(s.query(&auth_query("pin", &challenge, &token)).is_ok());
    s.post_query(&m(&[(
        Tag::AUTH_CHALLENGE,
        Value::Bytes(challenge.clone()),
    )]))
    .unwrap();
    assert_eq!(
        code(authenticate_user(&d, app, &challenge)),
        24000004,
        "a closed session"
    );
    assert!(authenticate_user(&d, "com.example.other", &theirs).is_ok());
}

#[test]
fn sessions_are_limited_per_app_and_in_all_and_expire() {
    let (t, d, _s) = store();
    set_state(t.path(), UNLOCKED);
    let apps: Vec<AssetStore> = (0..3)
        .map(|i| {
            let s = AssetStore::open(&d, &format!("com.example.app{i}")).unwrap();
            s.add(&auth_asset("pin", Accessibility::DeviceFirstUnlocked))
                .unwrap();
            s
        })
        .collect();
    let mut first = Vec::new();
    for i in 0..MAX_SESSIONS_PER_APP {
        let c = apps[0].pre_query(&m(&[])).unwrap();
        if i == 0 {
            first = c;
        }
    }
    assert_eq!(
        code(apps[0].pre_query(&m(&[]))),
        24000016,
        "17th for one app"
    );
    apps[0]
        .post_query(&m(&[(Tag::AUTH_CHALLENGE, Value::Bytes(first))]))
        .unwrap();
    apps[0].pre_query(&m(&[])).unwrap();
    for _ in 0..MAX_SESSIONS_PER_APP {
        apps[1].pre_query(&m(&[])).unwrap();
    }
    assert_eq!(
        code(apps[2].pre_query(&m(&[]))),
        24000016,
        "33rd on the device"
    );
    // Expiry: a one-second session is gone after a second, and no longer counts.
    let t2 = tempfile::tempdir().unwrap();
    set_state(t2.path(), UNLOCKED);
    let d2 = Device::open(Some(t2.path())).unwrap();
    let s = AssetStore::open(&d2, "com.example.app").unwrap();
    s.add(&auth_asset("pin", Accessibility::DeviceFirstUnlocked))
        .unwrap();
    let c = s
        .pre_query(&m(&[(Tag::AUTH_VALIDITY_PERIOD, Value::Number(1))]))
        .unwrap();
    let token = authenticate_user(&d2, "com.example.app", &c).unwrap();
    assert!(s.query(&auth_query("pin", &c, &token)).is_ok());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(code(s.query(&auth_query("pin", &c, &token))), 24000002);
    assert_eq!(
        code(authenticate_user(&d2, "com.example.app", &c)),
        24000004,
        "no token for an expired session"
    );
    for _ in 0..MAX_SESSIONS_PER_APP {
        s.pre_query(&m(&[(Tag::AUTH_VALIDITY_PERIOD, Value::Number(1))]))
            .unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s.pre_query(&m(&[])).unwrap();
}

#[test]
fn group_assets_are_shared_by_the_apps_that_declare_the_group() {
    let (t, d, s) = store();
    let cfg = r#"{"versionCode":1,"versionName":"1","developerId":"dev1","assetAccessGroups":["demo_group_id"]}"#;
    install(t.path(), "com.example.g1", cfg);
    install(t.path(), "com.example.g2", cfg);
    let g1 = AssetStore::open(&d, "com.example.g1").unwrap();
    let g2 = AssetStore::open(&d, "com.example.g2").unwrap();
    let group = (Tag::GROUP_ID, b("demo_group_id"));
    g1.add(&m(&[
        (Tag::ALIAS, b("shared")),
        (Tag::SECRET, b("s")),
        group.clone(),
    ]))
    .unwrap();
    let rows = g2
        .query(&m(&[
            (Tag::ALIAS, b("shared")),
            (Tag::RETURN_TYPE, Value::Number(0)),
            group.clone(),
        ]))
        .unwrap();
    assert_eq!(rows[0].get(&Tag::SECRET), Some(&b("s")));
    assert_eq!(
        code(g1.query(&m(&[(Tag::ALIAS, b("shared"))]))),
        24000002,
        "not in the app's own bucket"
    );
    assert_eq!(
        code(s.query(&m(std::slice::from_ref(&group)))),
        401,
        "undeclared group"
    );
    assert_eq!(
        code(g1.add(&m(&[
            (Tag::ALIAS, b("p")),
            (Tag::SECRET, b("s")),
            (Tag::IS_PERSISTENT, Value::Bool(true)),
            group,
        ]))),
        401
    );
}

#[test]
fn a_settled_device_json_is_cached_but_every_change_is_seen() {
    settled_device_json(); // with change notification (where the file system has it)
    super::changes::OFF.with(|o| o.set(true));
    settled_device_json(); // with a stat per operation
    super::changes::OFF.with(|o| o.set(false));
}

fn settled_device_json() {
    let (t, _d, s) = store();
    // Same size on purpose: only the file times tell the two apart.
    let unlocked = r#"{"lockScreenPasswordSet": true, "screenLocked": false}"#;
    let locked = r#"{"lockScreenPasswordSet": true, "screenLocked": true }"#;
    assert_eq!(unlocked.len(), locked.len());
    set_state(t.path(), unlocked);
    s.add(&m(&[
        (Tag::ALIAS, b("u")),
        (Tag::SECRET, b("x")),
        (
            Tag::ACCESSIBILITY,
            Value::Number(Accessibility::DeviceUnlocked as u32),
        ),
    ]))
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(secret_of(&s, "u").unwrap(), b"x"); // settled now: cached
    set_state(t.path(), locked);
    assert_eq!(code(secret_of(&s, "u")), 24000005);
    set_state(t.path(), unlocked);
    assert_eq!(secret_of(&s, "u").unwrap(), b"x");
    fs::remove_file(t.path().join("device.json")).unwrap();
    assert_eq!(secret_of(&s, "u").unwrap(), b"x", "no file: no password");
}

#[test]
fn the_store_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<AssetStore>();
    let (_t, _d, s) = store();
    let s = std::sync::Arc::new(s);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    add(&s, &format!("w{w}-{i}"), "x").unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(s.query(&m(&[])).unwrap().len(), 100);
}

#[test]
fn shared_stores_are_one_per_device_and_app_until_the_databases_are_replaced() {
    use std::sync::Arc;
    let (t, d, _s) = store();
    let app = "com.example.app";
    let first = AssetStore::shared(&d, app).unwrap();
    add(&first, "x", "1").unwrap(); // makes the databases' folder: the next call keeps a fresh store
    let kept = AssetStore::shared(&d, app).unwrap();
    assert!(Arc::ptr_eq(&kept, &AssetStore::shared(&d, app).unwrap()));
    assert!(!Arc::ptr_eq(
        &kept,
        &AssetStore::shared(&d, "com.example.other").unwrap()
    ));
    assert_eq!(secret_of(&kept, "x").unwrap(), b"1");

    // The app's profile is read when it matters, not only when the store opened.
    let group = (Tag::GROUP_ID, b("demo_group_id"));
    let in_group = m(&[(Tag::ALIAS, b("g")), (Tag::SECRET, b("s")), group.clone()]);
    assert_eq!(code(kept.add(&in_group)), 401, "no such group yet");
    install(
        t.path(),
        app,
        r#"{"versionCode":1,"versionName":"1","assetAccessGroups":["demo_group_id"]}"#,
    );
    kept.add(&in_group).unwrap();

    // Asset state wiped: a new store on the new folder, not connections to deleted files.
    fs::remove_dir_all(t.path().join("state/asset")).unwrap();
    let fresh = AssetStore::shared(&d, app).unwrap();
    assert!(!Arc::ptr_eq(&kept, &fresh));
    assert_eq!(code(secret_of(&fresh, "x")), 24000002);
    add(&fresh, "y", "2").unwrap();
    let reopened = AssetStore::open(&d, app).unwrap();
    assert_eq!(
        secret_of(&reopened, "y").unwrap(),
        b"2",
        "written where others see it"
    );

    // By path, a device that cannot be opened is the service being unavailable.
    let missing = t.path().join("missing");
    let e = AssetStore::shared_at(Some(&missing), app).unwrap_err();
    assert_eq!(e.code().code(), 24000001);
    assert!(e.message().contains("does not exist"), "{}", e.message());
}
