//! One SQLite database per owner and bucket under `<root>/state/asset/db/`: `app_<bundle>.db` for
//! an app's own assets, `group_<sha256>.db` for a group's, each with an `enc_` twin for assets whose
//! attributes are encrypted (REQUIRE_ATTR_ENCRYPTED). In an `enc_` database the alias column holds
//! an HMAC of the alias (so uniqueness and lookup still work) and the alias and every label are
//! sealed with AES-256-GCM under the owner's attribute key, bound to their row and column.
//!
//! The secret is always sealed by the [`KeyStore`](super::keystore::KeyStore) with the critical
//! attributes in the associated data ([`Row::aad`]): owner, adding app, alias, sync type,
//! accessibility, password and auth requirements, persistence, wrap type, the bucket and the four
//! critical labels. Editing any of them in the file makes decryption fail (24000007); normal and
//! local labels are not bound, so apps can update them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use aes_gcm::Aes256Gcm;
use hmac::{Hmac, Mac};
use rusqlite::types::{ToSqlOutput, Value as Sql, ValueRef};
use rusqlite::{params_from_iter, Connection, ToSql};
use sha2::Sha256;

use super::crypto;
use super::tags::{Accessibility, AuthType, CRITICAL_LABELS, LOCAL_LABELS, NORMAL_LABELS};
use super::value::{AssetMap, MapExt, Value};
use crate::error::{Error, ErrorCode, Result};

/// Label slots: critical 0..4, normal 4..8, local 8..12.
pub(crate) const LABEL_SLOTS: usize = 12;
const LABEL_COLUMNS: [&str; LABEL_SLOTS] = [
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

/// The tag of label slot `i`.
pub(crate) fn label_tag(i: usize) -> u32 {
    match i {
        0..=3 => CRITICAL_LABELS[i],
        4..=7 => NORMAL_LABELS[i - 4],
        _ => LOCAL_LABELS[i - 8],
    }
}

/// The slot of a label tag.
pub(crate) fn label_slot(tag: u32) -> Option<usize> {
    (0..LABEL_SLOTS).find(|&i| label_tag(i) == tag)
}

/// Whether slot `i` is a local label (never leaves the device).
pub(crate) fn is_local_slot(i: usize) -> bool {
    i >= 8
}

pub(crate) fn db_error(e: rusqlite::Error) -> Error {
    Error::new(ErrorCode::AssetDatabaseError, e.to_string())
}

fn corrupted(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::AssetDataCorrupted, what.to_string())
}

/// One stored asset, with its alias and labels in the clear and its secret sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    pub id: i64,
    pub alias: Vec<u8>,
    /// The bucket owner the key and AAD belong to (`app:<bundle>` or `group:…`).
    pub owner: String,
    /// The app that added the asset.
    pub origin: String,
    pub sync_type: u32,
    pub accessibility: Accessibility,
    pub auth_type: AuthType,
    pub require_password_set: bool,
    pub is_persistent: bool,
    pub wrap_type: u32,
    pub attr_encrypted: bool,
    /// Milliseconds since the epoch.
    pub create_time: u64,
    pub update_time: u64,
    pub labels: [Option<Vec<u8>>; LABEL_SLOTS],
    /// `ciphertext ‖ tag ‖ nonce`.
    pub secret: Vec<u8>,
}

impl Row {
    /// The associated data binding the secret to the critical attributes.
    pub fn aad(&self) -> Vec<u8> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        // Built in one buffer, hex included: this runs on every seal and open.
        let mut a = Vec::with_capacity(512);
        let mut field = |name: &str, value: &[u8], as_hex: bool| {
            a.extend_from_slice(name.as_bytes());
            a.push(b':');
            if as_hex {
                for b in value {
                    a.extend_from_slice(&[DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]]);
                }
            } else {
                a.extend_from_slice(value);
            }
            a.push(b'_');
        };
        field("v", b"1", false);
        field("Alias", &self.alias, true);
        field("Owner", self.owner.as_bytes(), false);
        field("Origin", self.origin.as_bytes(), false);
        field("SyncType", &self.sync_type.to_le_bytes(), false);
        field(
            "Accessibility",
            &(self.accessibility as u32).to_le_bytes(),
            false,
        );
        field(
            "RequirePasswordSet",
            &[self.require_password_set as u8],
            false,
        );
        field("AuthType", &(self.auth_type as u32).to_le_bytes(), false);
        field("IsPersistent", &[self.is_persistent as u8], false);
        field("WrapType", &self.wrap_type.to_le_bytes(), false);
        field("AttrEncrypted", &[self.attr_encrypted as u8], false);
        for (i, name) in LABEL_COLUMNS.iter().enumerate().take(4) {
            field(name, self.labels[i].as_deref().unwrap_or_default(), true);
        }
        a
    }

    /// The attributes a query returns (the secret only when asked for and decrypted).
    pub fn into_map(self, secret: Option<Vec<u8>>) -> AssetMap {
        use super::tags::Tag;
        let mut m = AssetMap::new();
        m.insert(Tag::ALIAS, Value::Bytes(self.alias));
        m.insert(Tag::ACCESSIBILITY, Value::Number(self.accessibility as u32));
        m.insert(Tag::AUTH_TYPE, Value::Number(self.auth_type as u32));
        m.insert(Tag::SYNC_TYPE, Value::Number(self.sync_type));
        m.insert(Tag::IS_PERSISTENT, Value::Bool(self.is_persistent));
        m.insert(
            Tag::REQUIRE_PASSWORD_SET,
            Value::Bool(self.require_password_set),
        );
        m.insert(
            Tag::UPDATE_TIME,
            Value::Bytes(self.update_time.to_string().into_bytes()),
        );
        m.insert(Tag::WRAP_TYPE, Value::Number(self.wrap_type));
        for (i, l) in self.labels.into_iter().enumerate() {
            if let Some(l) = l {
                m.insert(label_tag(i), Value::Bytes(l));
            }
        }
        if let Some(s) = secret {
            m.insert(Tag::SECRET, Value::Bytes(s));
        }
        m
    }
}

/// Which rows a query, remove or update means (all conditions ANDed), borrowing its values.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter<'a> {
    pub alias: Option<&'a [u8]>,
    /// SyncType matched as a mask: `(stored & q) == q`.
    pub sync_type: Option<u32>,
    pub accessibility: Option<u32>,
    pub auth_type: Option<u32>,
    pub require_password_set: Option<bool>,
    pub is_persistent: Option<bool>,
    pub wrap_type: Option<u32>,
    pub labels: Vec<(usize, &'a [u8])>,
}

impl<'a> Filter<'a> {
    /// The conditions a validated map states.
    pub fn from_map(m: &'a AssetMap) -> Filter<'a> {
        use super::tags::Tag;
        Filter {
            alias: m.bytes(Tag::ALIAS),
            sync_type: m.number(Tag::SYNC_TYPE),
            accessibility: m.number(Tag::ACCESSIBILITY),
            auth_type: m.number(Tag::AUTH_TYPE),
            require_password_set: m.boolean(Tag::REQUIRE_PASSWORD_SET),
            is_persistent: m.boolean(Tag::IS_PERSISTENT),
            wrap_type: m.number(Tag::WRAP_TYPE),
            labels: m
                .iter()
                .filter_map(|(t, v)| match (label_slot(*t), v) {
                    (Some(i), Value::Bytes(b)) => Some((i, b.as_slice())),
                    _ => None,
                })
                .collect(),
        }
    }
}

/// How the alias and labels are stored: in the clear, or sealed under the owner's attribute key.
pub(crate) enum Codec {
    Plain,
    Sealed {
        cipher: Box<Aes256Gcm>,
        mac_key: [u8; 32],
    },
}

impl Codec {
    /// The sealed codec of an attribute key.
    pub fn sealed(key: &[u8; 32]) -> Codec {
        Codec::Sealed {
            cipher: Box::new(crypto::cipher(&crypto::derive_key(
                key,
                b"ohfile-asset-attr",
                b"seal",
            ))),
            mac_key: crypto::derive_key(key, b"ohfile-asset-attr", b"alias-mac"),
        }
    }

    /// The value of the alias column for `alias`: itself, or its HMAC in a sealed database.
    fn alias_key<'a>(&self, alias: &'a [u8]) -> Cow<'a, [u8]> {
        match self {
            Codec::Plain => Cow::Borrowed(alias),
            Codec::Sealed { mac_key, .. } => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(mac_key)
                    .expect("HMAC takes any key length");
                mac.update(alias);
                Cow::Owned(mac.finalize().into_bytes().to_vec())
            }
        }
    }

    fn seal(&self, row_key: &[u8], column: &str, v: &[u8]) -> Result<Vec<u8>> {
        match self {
            Codec::Plain => Ok(v.to_vec()),
            Codec::Sealed { cipher, .. } => crypto::seal(cipher, &field_aad(row_key, column), v),
        }
    }

    fn open(&self, row_key: &[u8], column: &str, v: Vec<u8>) -> Result<Vec<u8>> {
        match self {
            Codec::Plain => Ok(v),
            Codec::Sealed { cipher, .. } => crypto::open(cipher, &field_aad(row_key, column), &v)
                .map_err(|_| corrupted(format!("the encrypted attribute {column} was altered"))),
        }
    }
}

fn field_aad(row_key: &[u8], column: &str) -> Vec<u8> {
    let mut a = column.as_bytes().to_vec();
    a.push(0);
    a.extend_from_slice(row_key);
    a
}

/// An open asset database.
pub(crate) struct Db {
    conn: Connection,
    codec: Codec,
    /// The SQL of each statement shape (`find` or `delete_matching`, which conditions), made once:
    /// rusqlite caches the prepared statements by their text.
    sql: RefCell<HashMap<(bool, u8), String>>,
}

/// An argument of a condition (borrowing the caller's bytes where it can).
enum Arg<'a> {
    Blob(Cow<'a, [u8]>),
    Integer(i64),
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Arg::Integer(i) => ToSqlOutput::Owned(Sql::Integer(*i)),
        })
    }
}

/// The columns [`Db::conditions`] may compare, in the order of its mask bits.
const CONDITIONS: [&str; 7] = [
    " AND alias = ?",
    " AND (sync_type & ?) = ?",
    " AND accessibility = ?",
    " AND auth_type = ?",
    " AND require_password_set = ?",
    " AND is_persistent = ?",
    " AND wrap_type = ?",
];

const SCHEMA_VERSION: i64 = 1;

impl Db {
    /// Opens (creating) the database at `path`.
    pub fn open(path: &Path, codec: Codec) -> Result<Db> {
        let conn = Connection::open(path).map_err(db_error)?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(db_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_error)?;
        let labels: String = LABEL_COLUMNS.iter().map(|c| format!("{c} BLOB,")).collect();
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
                secret BLOB NOT NULL);
             PRAGMA user_version = {SCHEMA_VERSION};"
        ))
        .map_err(db_error)?;
        Ok(Db {
            conn,
            codec,
            sql: RefCell::new(HashMap::new()),
        })
    }

    /// Runs `f` with the SQL of a select (`find`) or delete with the conditions of `mask`.
    fn with_sql<T>(&self, select: bool, mask: u8, f: impl FnOnce(&str) -> T) -> T {
        let mut cache = self.sql.borrow_mut();
        let sql = cache.entry((select, mask)).or_insert_with(|| {
            let conditions: String = (0..CONDITIONS.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| CONDITIONS[i])
                .collect();
            if select {
                format!("SELECT {SELECT_COLUMNS} FROM asset WHERE 1{conditions} ORDER BY id")
            } else {
                format!("DELETE FROM asset WHERE 1{conditions}")
            }
        });
        f(sql)
    }

    /// The rows matching `f`, in insertion order.
    pub fn find(&self, f: &Filter) -> Result<Vec<Row>> {
        let (mask, args) = self.conditions(f);
        // Labels are compared here in the clear (plain databases could do it in SQL, sealed ones
        // cannot; one path keeps both the same).
        let mut stmt = self
            .with_sql(true, mask, |sql| self.conn.prepare_cached(sql))
            .map_err(db_error)?;
        let raw = stmt
            .query_map(params_from_iter(args), raw_row)
            .map_err(db_error)?;
        // An alias names at most one asset.
        let mut out = Vec::with_capacity(if f.alias.is_some() { 1 } else { 8 });
        for r in raw {
            let row = self.decode(r.map_err(db_error)?)?;
            if f.labels
                .iter()
                .all(|(i, v)| row.labels[*i].as_deref() == Some(*v))
            {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Deletes the rows matching `f`; returns how many went.
    pub fn delete_matching(&self, f: &Filter) -> Result<usize> {
        if f.labels.is_empty() {
            // Everything is decidable in SQL: one statement, no decoding.
            let (mask, args) = self.conditions(f);
            let mut stmt = self
                .with_sql(false, mask, |sql| self.conn.prepare_cached(sql))
                .map_err(db_error)?;
            return stmt.execute(params_from_iter(args)).map_err(db_error);
        }
        let ids: Vec<i64> = self.find(f)?.iter().map(|r| r.id).collect();
        self.delete(&ids)
    }

    /// The conditions of `f`'s non-label parts, as a mask of [`CONDITIONS`], and their arguments.
    fn conditions<'a>(&self, f: &Filter<'a>) -> (u8, Vec<Arg<'a>>) {
        let mut mask = 0u8;
        let mut args: Vec<Arg<'a>> = Vec::with_capacity(4);
        if let Some(a) = f.alias {
            mask |= 1;
            args.push(Arg::Blob(self.codec.alias_key(a)));
        }
        if let Some(s) = f.sync_type {
            mask |= 1 << 1;
            args.push(Arg::Integer(s as i64));
            args.push(Arg::Integer(s as i64));
        }
        let ints = [
            f.accessibility.map(i64::from),
            f.auth_type.map(i64::from),
            f.require_password_set.map(i64::from),
            f.is_persistent.map(i64::from),
            f.wrap_type.map(i64::from),
        ];
        for (i, v) in ints.into_iter().enumerate() {
            if let Some(v) = v {
                mask |= 1 << (2 + i);
                args.push(Arg::Integer(v));
            }
        }
        (mask, args)
    }

    /// Inserts `row` (its id is ignored): 24000003 when the alias exists.
    pub fn insert(&self, row: &Row) -> Result<()> {
        let key = self.codec.alias_key(&row.alias).into_owned();
        let alias_sealed = match self.codec {
            Codec::Plain => None,
            Codec::Sealed { .. } => Some(self.codec.seal(&key, "alias", &row.alias)?),
        };
        let mut values: Vec<Sql> = vec![
            Sql::Blob(key.clone()),
            alias_sealed.map(Sql::Blob).unwrap_or(Sql::Null),
            Sql::Text(row.owner.clone()),
            Sql::Text(row.origin.clone()),
            Sql::Integer(row.sync_type.into()),
            Sql::Integer(row.accessibility as i64),
            Sql::Integer(row.auth_type as i64),
            Sql::Integer(row.require_password_set.into()),
            Sql::Integer(row.is_persistent.into()),
            Sql::Integer(row.wrap_type.into()),
            Sql::Integer(row.attr_encrypted.into()),
            Sql::Integer(row.create_time as i64),
            Sql::Integer(row.update_time as i64),
        ];
        for (i, l) in row.labels.iter().enumerate() {
            values.push(match l {
                Some(v) => Sql::Blob(self.codec.seal(&key, LABEL_COLUMNS[i], v)?),
                None => Sql::Null,
            });
        }
        values.push(Sql::Blob(row.secret.clone()));
        static SQL: OnceLock<String> = OnceLock::new();
        let sql = SQL.get_or_init(|| {
            format!(
                "INSERT INTO asset (alias, alias_sealed, owner, origin, sync_type, accessibility,
                 auth_type, require_password_set, is_persistent, wrap_type, attr_encrypted,
                 create_time, update_time, {}, secret) VALUES ({})",
                LABEL_COLUMNS.join(","),
                vec!["?"; 14 + LABEL_SLOTS].join(",")
            )
        });
        let mut stmt = self.conn.prepare_cached(sql).map_err(db_error)?;
        match stmt.execute(params_from_iter(values)) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(Error::new(
                    ErrorCode::AssetDuplicated,
                    "an asset with this alias already exists",
                ))
            }
            Err(e) => Err(db_error(e)),
        }
    }

    /// Replaces the asset with `row`'s alias (if any) by `row`, atomically.
    pub fn replace(&mut self, row: &Row) -> Result<()> {
        let key = self.codec.alias_key(&row.alias).into_owned();
        let tx = self.conn.unchecked_transaction().map_err(db_error)?;
        tx.execute("DELETE FROM asset WHERE alias = ?", [key])
            .map_err(db_error)?;
        self.insert(row)?;
        tx.commit().map_err(db_error)
    }

    /// Deletes the rows with these ids; returns how many went.
    pub fn delete(&self, ids: &[i64]) -> Result<usize> {
        let tx = self.conn.unchecked_transaction().map_err(db_error)?;
        let mut n = 0;
        {
            let mut stmt = tx
                .prepare_cached("DELETE FROM asset WHERE id = ?")
                .map_err(db_error)?;
            for id in ids {
                n += stmt.execute([id]).map_err(db_error)?;
            }
        }
        tx.commit().map_err(db_error)?;
        Ok(n)
    }

    /// Writes the updatable fields of `row` (labels, secret, update time) back.
    pub fn update(&self, row: &Row) -> Result<()> {
        let key = self.codec.alias_key(&row.alias).into_owned();
        let mut sets = Vec::new();
        let mut values: Vec<Sql> = Vec::new();
        for (i, col) in LABEL_COLUMNS.iter().enumerate().skip(4) {
            sets.push(format!("{col} = ?"));
            values.push(match &row.labels[i] {
                Some(v) => Sql::Blob(self.codec.seal(&key, col, v)?),
                None => Sql::Null,
            });
        }
        sets.push("secret = ?".into());
        values.push(Sql::Blob(row.secret.clone()));
        sets.push("update_time = ?".into());
        values.push(Sql::Integer(row.update_time as i64));
        values.push(Sql::Integer(row.id));
        let sql = format!("UPDATE asset SET {} WHERE id = ?", sets.join(", "));
        let n = self
            .conn
            .execute(&sql, params_from_iter(values))
            .map_err(db_error)?;
        if n == 0 {
            return Err(Error::new(
                ErrorCode::AssetNotFound,
                "the asset was removed meanwhile",
            ));
        }
        Ok(())
    }

    fn decode(&self, r: RawRow) -> Result<Row> {
        let (alias, labels) = match (&self.codec, r.alias_sealed) {
            // Stored in the clear: taken as they are.
            (Codec::Plain, _) => (r.alias_key, r.labels),
            (Codec::Sealed { .. }, Some(s)) => {
                let mut labels: [Option<Vec<u8>>; LABEL_SLOTS] = Default::default();
                for (i, l) in r.labels.into_iter().enumerate() {
                    if let Some(v) = l {
                        labels[i] = Some(self.codec.open(&r.alias_key, LABEL_COLUMNS[i], v)?);
                    }
                }
                (self.codec.open(&r.alias_key, "alias", s)?, labels)
            }
            (Codec::Sealed { .. }, None) => return Err(corrupted("an encrypted row has no alias")),
        };
        let num = |v: i64, what: &str| -> Result<u32> {
            u32::try_from(v).map_err(|_| corrupted(format!("stored {what} {v} is out of range")))
        };
        let accessibility = Accessibility::from_u32(num(r.accessibility, "accessibility")?)
            .ok_or_else(|| corrupted("stored accessibility is not a valid value"))?;
        let auth_type = AuthType::from_u32(num(r.auth_type, "auth type")?)
            .ok_or_else(|| corrupted("stored auth type is not a valid value"))?;
        Ok(Row {
            id: r.id,
            alias,
            owner: r.owner,
            origin: r.origin,
            sync_type: num(r.sync_type, "sync type")?,
            accessibility,
            auth_type,
            require_password_set: r.require_password_set != 0,
            is_persistent: r.is_persistent != 0,
            wrap_type: num(r.wrap_type, "wrap type")?,
            attr_encrypted: r.attr_encrypted != 0,
            create_time: r.create_time.max(0) as u64,
            update_time: r.update_time.max(0) as u64,
            labels,
            secret: r.secret,
        })
    }
}

struct RawRow {
    id: i64,
    alias_key: Vec<u8>,
    alias_sealed: Option<Vec<u8>>,
    owner: String,
    origin: String,
    sync_type: i64,
    accessibility: i64,
    auth_type: i64,
    require_password_set: i64,
    is_persistent: i64,
    wrap_type: i64,
    attr_encrypted: i64,
    create_time: i64,
    update_time: i64,
    labels: [Option<Vec<u8>>; LABEL_SLOTS],
    secret: Vec<u8>,
}

/// The columns `find` reads, in the order [`raw_row`] takes them.
const SELECT_COLUMNS: &str = "id, alias, alias_sealed, owner, origin, sync_type, accessibility, \
    auth_type, require_password_set, is_persistent, wrap_type, attr_encrypted, create_time, \
    update_time, critical_1, critical_2, critical_3, critical_4, normal_1, normal_2, normal_3, \
    normal_4, local_1, local_2, local_3, local_4, secret";

// By index, not by name: this is the hot path of every query.
fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    let mut labels: [Option<Vec<u8>>; LABEL_SLOTS] = Default::default();
    for (i, l) in labels.iter_mut().enumerate() {
        *l = r.get::<_, Option<Vec<u8>>>(14 + i)?;
    }
    Ok(RawRow {
        id: r.get(0)?,
        alias_key: r.get(1)?,
        alias_sealed: r.get(2)?,
        owner: r.get(3)?,
        origin: r.get(4)?,
        sync_type: r.get(5)?,
        accessibility: r.get(6)?,
        auth_type: r.get(7)?,
        require_password_set: r.get(8)?,
        is_persistent: r.get(9)?,
        wrap_type: r.get(10)?,
        attr_encrypted: r.get(11)?,
        create_time: r.get(12)?,
        update_time: r.get(13)?,
        labels,
        secret: r.get(14 + LABEL_SLOTS)?,
    })
}
