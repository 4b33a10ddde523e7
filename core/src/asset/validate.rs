//! Argument rules of each operation, with OpenHarmony's limits: which tags a function takes,
//! which it needs, and the range of every value. A breach is 401 (24000018 for querySyncResult).

use super::tags::{
    tag_name, Accessibility, AuthType, ConflictResolution, OperationType, ReturnType, Tag, TagType,
    WrapType, CRITICAL_LABELS, LOCAL_LABELS, NORMAL_LABELS,
};
use super::value::{AssetMap, Value};
use crate::error::{Error, ErrorCode, Result};

/// Secret length in bytes.
pub const SECRET_LEN: (usize, usize) = (1, 1024);
/// Alias length in bytes.
pub const ALIAS_LEN: (usize, usize) = (1, 256);
/// Label length in bytes.
pub const LABEL_LEN: (usize, usize) = (1, 2048);
/// Group id length in bytes.
pub const GROUP_ID_LEN: (usize, usize) = (7, 127);
/// Challenge length in bytes (exact).
pub const CHALLENGE_LEN: usize = 32;
/// Auth token length in bytes (exact: the size of the service's token).
pub const AUTH_TOKEN_LEN: usize = 344;
/// RETURN_LIMIT range.
pub const RETURN_LIMIT_RANGE: (u32, u32) = (1, 65536);
/// AUTH_VALIDITY_PERIOD range in seconds.
pub const AUTH_VALIDITY_RANGE: (u32, u32) = (1, 600);
/// SYNC_TYPE is a 3-bit mask.
pub const SYNC_TYPE_LIMIT: u32 = 8;

/// The operation whose rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Remove,
    UpdateQuery,
    UpdateAttrs,
    PreQuery,
    Query,
    PostQuery,
    QuerySyncResult,
}

const ACCESS_CONTROL: [u32; 9] = [
    Tag::ALIAS,
    Tag::ACCESSIBILITY,
    Tag::AUTH_TYPE,
    Tag::IS_PERSISTENT,
    Tag::SYNC_TYPE,
    Tag::REQUIRE_PASSWORD_SET,
    Tag::REQUIRE_ATTR_ENCRYPTED,
    Tag::GROUP_ID,
    Tag::WRAP_TYPE,
];

fn labels() -> impl Iterator<Item = u32> {
    CRITICAL_LABELS
        .into_iter()
        .chain(NORMAL_LABELS)
        .chain(LOCAL_LABELS)
}

/// Whether `op` accepts `tag`.
pub(crate) fn allowed(op: Op, tag: u32) -> bool {
    let label = labels().any(|t| t == tag);
    let access = ACCESS_CONTROL.contains(&tag);
    match op {
        Op::Add => {
            label
                || access
                || [Tag::OPERATION_TYPE, Tag::SECRET, Tag::CONFLICT_RESOLUTION].contains(&tag)
        }
        Op::Remove => label || access || tag == Tag::OPERATION_TYPE,
        Op::UpdateQuery => label || access,
        Op::UpdateAttrs => {
            NORMAL_LABELS.contains(&tag)
                || LOCAL_LABELS.contains(&tag)
                || [Tag::OPERATION_TYPE, Tag::SECRET].contains(&tag)
        }
        Op::PreQuery => label || access || tag == Tag::AUTH_VALIDITY_PERIOD,
        Op::Query => {
            label
                || access
                || [
                    Tag::OPERATION_TYPE,
                    Tag::RETURN_LIMIT,
                    Tag::RETURN_OFFSET,
                    Tag::RETURN_ORDERED_BY,
                    Tag::RETURN_TYPE,
                    Tag::AUTH_TOKEN,
                    Tag::AUTH_CHALLENGE,
                ]
                .contains(&tag)
        }
        Op::PostQuery => tag == Tag::AUTH_CHALLENGE,
        Op::QuerySyncResult => tag == Tag::GROUP_ID || tag == Tag::REQUIRE_ATTR_ENCRYPTED,
    }
}

fn name(tag: u32) -> String {
    tag_name(tag)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{tag:#010x}"))
}

fn bad(detail: String) -> Error {
    Error::new(ErrorCode::ParameterError, detail)
}

/// Checks every tag of `map` against `op`'s list and every value against its limits, then the
/// tags `op` needs. 401 on any breach; querySyncResult reports 24000018 instead.
pub(crate) fn check(op: Op, map: &AssetMap) -> Result<()> {
    let checked = check_inner(op, map);
    match (op, checked) {
        (Op::QuerySyncResult, Err(e)) if e.code() == ErrorCode::ParameterError => Err(Error::new(
            ErrorCode::AssetParamVerificationFailed,
            e.detail().to_string(),
        )),
        (_, r) => r,
    }
}

fn check_inner(op: Op, map: &AssetMap) -> Result<()> {
    for (&tag, value) in map {
        if tag_name(tag).is_none() {
            return Err(bad(format!("{tag:#010x} is not an asset tag")));
        }
        if TagType::of(tag) != Some(value.tag_type()) {
            return Err(bad(format!(
                "the value of {} must be a {}",
                name(tag),
                match TagType::of(tag) {
                    Some(TagType::Bool) => "boolean",
                    Some(TagType::Number) => "number",
                    _ => "byte array",
                }
            )));
        }
        if !allowed(op, tag) {
            return Err(bad(format!("{} is not allowed here", name(tag))));
        }
        check_value(tag, value)?;
    }
    let required: &[u32] = match op {
        Op::Add => &[Tag::SECRET, Tag::ALIAS],
        Op::UpdateQuery => &[Tag::ALIAS],
        Op::PostQuery => &[Tag::AUTH_CHALLENGE],
        _ => &[],
    };
    for &tag in required {
        if !map.contains_key(&tag) {
            return Err(bad(format!("{} is required", name(tag))));
        }
    }
    if op == Op::UpdateAttrs && map.is_empty() {
        return Err(bad("the attributes to update are empty".into()));
    }
    if op == Op::PreQuery && map.get(&Tag::AUTH_TYPE) == Some(&Value::Number(AuthType::None as u32))
    {
        return Err(bad("preQuery is for assets with AUTH_TYPE ANY".into()));
    }
    if op == Op::Add && map.contains_key(&Tag::GROUP_ID) {
        if let Some(Value::Bool(true)) = map.get(&Tag::IS_PERSISTENT) {
            return Err(bad(
                "IS_PERSISTENT cannot be true for a GROUP_ID asset".into()
            ));
        }
    }
    Ok(())
}

fn check_value(tag: u32, value: &Value) -> Result<()> {
    let len_in = |(lo, hi): (usize, usize)| -> Result<()> {
        match value {
            Value::Bytes(b) if b.len() >= lo && b.len() <= hi => Ok(()),
            Value::Bytes(b) => Err(bad(format!(
                "{} must be {lo}..={hi} bytes, not {}",
                name(tag),
                b.len()
            ))),
            _ => Ok(()),
        }
    };
    let number = match value {
        Value::Number(n) => Some(*n),
        _ => None,
    };
    let member = |ok: bool| -> Result<()> {
        if ok {
            Ok(())
        } else {
            Err(bad(format!(
                "{} is not a valid value of {}",
                number.unwrap_or_default(),
                name(tag)
            )))
        }
    };
    let n = number.unwrap_or_default();
    match tag {
        Tag::SECRET => len_in(SECRET_LEN),
        Tag::ALIAS => len_in(ALIAS_LEN),
        Tag::GROUP_ID => len_in(GROUP_ID_LEN),
        Tag::AUTH_CHALLENGE => len_in((CHALLENGE_LEN, CHALLENGE_LEN)),
        Tag::AUTH_TOKEN => len_in((AUTH_TOKEN_LEN, AUTH_TOKEN_LEN)),
        Tag::UPDATE_TIME => len_in((1, 1024)),
        t if labels().any(|l| l == t) => len_in(LABEL_LEN),
        Tag::ACCESSIBILITY => member(Accessibility::from_u32(n).is_some()),
        Tag::AUTH_TYPE => member(AuthType::from_u32(n).is_some()),
        Tag::CONFLICT_RESOLUTION => member(ConflictResolution::from_u32(n).is_some()),
        Tag::RETURN_TYPE => member(ReturnType::from_u32(n).is_some()),
        Tag::OPERATION_TYPE => member(OperationType::from_u32(n).is_some()),
        Tag::WRAP_TYPE => member(WrapType::from_u32(n).is_some()),
        Tag::SYNC_TYPE => member(n < SYNC_TYPE_LIMIT),
        Tag::RETURN_LIMIT => member((RETURN_LIMIT_RANGE.0..=RETURN_LIMIT_RANGE.1).contains(&n)),
        Tag::AUTH_VALIDITY_PERIOD => {
            member((AUTH_VALIDITY_RANGE.0..=AUTH_VALIDITY_RANGE.1).contains(&n))
        }
        Tag::RETURN_ORDERED_BY => member(labels().any(|l| l == n)),
        _ => Ok(()),
    }
}
