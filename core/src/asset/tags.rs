//! The numbers of `@ohos.security.asset`: every [`Tag`] (its value type in the top nibble, as the
//! d.ts builds them) and every enum, exactly as OpenHarmony publishes them.

/// The value type of a tag: the top nibble of its number.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TagType {
    /// A boolean value.
    Bool = 0x01 << 28,
    /// A 32-bit unsigned number.
    Number = 0x02 << 28,
    /// A byte array.
    Bytes = 0x03 << 28,
}

impl TagType {
    /// The type encoded in `tag`'s top nibble, if it is one of the three.
    pub fn of(tag: u32) -> Option<TagType> {
        match tag & 0xF000_0000 {
            x if x == TagType::Bool as u32 => Some(TagType::Bool),
            x if x == TagType::Number as u32 => Some(TagType::Number),
            x if x == TagType::Bytes as u32 => Some(TagType::Bytes),
            _ => None,
        }
    }
}

/// The tags of an `AssetMap` (`asset.Tag`): a [`TagType`] nibble OR'ed with an id.
pub struct Tag;

const BOOL: u32 = TagType::Bool as u32;
const NUMBER: u32 = TagType::Number as u32;
const BYTES: u32 = TagType::Bytes as u32;

impl Tag {
    /// The secret: 1..=1024 bytes.
    pub const SECRET: u32 = BYTES | 0x01;
    /// The alias, unique per owner (or per group): 1..=256 bytes.
    pub const ALIAS: u32 = BYTES | 0x02;
    /// When the asset is accessible ([`Accessibility`]).
    pub const ACCESSIBILITY: u32 = NUMBER | 0x03;
    /// Whether the asset is accessible only while a lock-screen password is set.
    pub const REQUIRE_PASSWORD_SET: u32 = BOOL | 0x04;
    /// The user authentication needed to read the secret ([`AuthType`]).
    pub const AUTH_TYPE: u32 = NUMBER | 0x05;
    /// How long a user authentication stays valid, in seconds (1..=600, default 60).
    pub const AUTH_VALIDITY_PERIOD: u32 = NUMBER | 0x06;
    /// The challenge of a user authentication: exactly 32 bytes.
    pub const AUTH_CHALLENGE: u32 = BYTES | 0x07;
    /// The token a user authentication produced.
    pub const AUTH_TOKEN: u32 = BYTES | 0x08;
    /// Where the asset may be synced ([`SyncType`] bits).
    pub const SYNC_TYPE: u32 = NUMBER | 0x10;
    /// Whether the asset survives the app's uninstallation.
    pub const IS_PERSISTENT: u32 = BOOL | 0x11;
    /// Critical labels: integrity-protected, cannot be updated.
    pub const DATA_LABEL_CRITICAL_1: u32 = BYTES | 0x20;
    /// See [`Tag::DATA_LABEL_CRITICAL_1`].
    pub const DATA_LABEL_CRITICAL_2: u32 = BYTES | 0x21;
    /// See [`Tag::DATA_LABEL_CRITICAL_1`].
    pub const DATA_LABEL_CRITICAL_3: u32 = BYTES | 0x22;
    /// See [`Tag::DATA_LABEL_CRITICAL_1`].
    pub const DATA_LABEL_CRITICAL_4: u32 = BYTES | 0x23;
    /// Normal labels: updatable, not integrity-protected, synced.
    pub const DATA_LABEL_NORMAL_1: u32 = BYTES | 0x30;
    /// See [`Tag::DATA_LABEL_NORMAL_1`].
    pub const DATA_LABEL_NORMAL_2: u32 = BYTES | 0x31;
    /// See [`Tag::DATA_LABEL_NORMAL_1`].
    pub const DATA_LABEL_NORMAL_3: u32 = BYTES | 0x32;
    /// See [`Tag::DATA_LABEL_NORMAL_1`].
    pub const DATA_LABEL_NORMAL_4: u32 = BYTES | 0x33;
    /// Local labels: updatable, never leave the device.
    pub const DATA_LABEL_NORMAL_LOCAL_1: u32 = BYTES | 0x34;
    /// See [`Tag::DATA_LABEL_NORMAL_LOCAL_1`].
    pub const DATA_LABEL_NORMAL_LOCAL_2: u32 = BYTES | 0x35;
    /// See [`Tag::DATA_LABEL_NORMAL_LOCAL_1`].
    pub const DATA_LABEL_NORMAL_LOCAL_3: u32 = BYTES | 0x36;
    /// See [`Tag::DATA_LABEL_NORMAL_LOCAL_1`].
    pub const DATA_LABEL_NORMAL_LOCAL_4: u32 = BYTES | 0x37;
    /// What a query returns ([`ReturnType`]).
    pub const RETURN_TYPE: u32 = NUMBER | 0x40;
    /// At most this many results (1..=65536).
    pub const RETURN_LIMIT: u32 = NUMBER | 0x41;
    /// Skip this many results.
    pub const RETURN_OFFSET: u32 = NUMBER | 0x42;
    /// Sort results ascending by this label tag.
    pub const RETURN_ORDERED_BY: u32 = NUMBER | 0x43;
    /// What add does with an existing alias ([`ConflictResolution`]).
    pub const CONFLICT_RESOLUTION: u32 = NUMBER | 0x44;
    /// When the asset last changed: ASCII decimal milliseconds since the epoch.
    pub const UPDATE_TIME: u32 = BYTES | 0x45;
    /// An extra operation on the asset ([`OperationType`]).
    pub const OPERATION_TYPE: u32 = NUMBER | 0x46;
    /// Whether the asset's attributes are stored encrypted.
    pub const REQUIRE_ATTR_ENCRYPTED: u32 = BOOL | 0x47;
    /// The app group the asset belongs to: 7..=127 bytes.
    pub const GROUP_ID: u32 = BYTES | 0x48;
    /// How the asset may be wrapped for import/export ([`WrapType`]).
    pub const WRAP_TYPE: u32 = NUMBER | 0x49;
}

/// Every public tag with its d.ts name, in the d.ts order (for tests and the faces).
pub const ALL_TAGS: &[(&str, u32)] = &[
    ("SECRET", Tag::SECRET),
    ("ALIAS", Tag::ALIAS),
    ("ACCESSIBILITY", Tag::ACCESSIBILITY),
    ("REQUIRE_PASSWORD_SET", Tag::REQUIRE_PASSWORD_SET),
    ("AUTH_TYPE", Tag::AUTH_TYPE),
    ("AUTH_VALIDITY_PERIOD", Tag::AUTH_VALIDITY_PERIOD),
    ("AUTH_CHALLENGE", Tag::AUTH_CHALLENGE),
    ("AUTH_TOKEN", Tag::AUTH_TOKEN),
    ("SYNC_TYPE", Tag::SYNC_TYPE),
    ("IS_PERSISTENT", Tag::IS_PERSISTENT),
    ("DATA_LABEL_CRITICAL_1", Tag::DATA_LABEL_CRITICAL_1),
    ("DATA_LABEL_CRITICAL_2", Tag::DATA_LABEL_CRITICAL_2),
    ("DATA_LABEL_CRITICAL_3", Tag::DATA_LABEL_CRITICAL_3),
    ("DATA_LABEL_CRITICAL_4", Tag::DATA_LABEL_CRITICAL_4),
    ("DATA_LABEL_NORMAL_1", Tag::DATA_LABEL_NORMAL_1),
    ("DATA_LABEL_NORMAL_2", Tag::DATA_LABEL_NORMAL_2),
    ("DATA_LABEL_NORMAL_3", Tag::DATA_LABEL_NORMAL_3),
    ("DATA_LABEL_NORMAL_4", Tag::DATA_LABEL_NORMAL_4),
    ("DATA_LABEL_NORMAL_LOCAL_1", Tag::DATA_LABEL_NORMAL_LOCAL_1),
    ("DATA_LABEL_NORMAL_LOCAL_2", Tag::DATA_LABEL_NORMAL_LOCAL_2),
    ("DATA_LABEL_NORMAL_LOCAL_3", Tag::DATA_LABEL_NORMAL_LOCAL_3),
    ("DATA_LABEL_NORMAL_LOCAL_4", Tag::DATA_LABEL_NORMAL_LOCAL_4),
    ("RETURN_TYPE", Tag::RETURN_TYPE),
    ("RETURN_LIMIT", Tag::RETURN_LIMIT),
    ("RETURN_OFFSET", Tag::RETURN_OFFSET),
    ("RETURN_ORDERED_BY", Tag::RETURN_ORDERED_BY),
    ("CONFLICT_RESOLUTION", Tag::CONFLICT_RESOLUTION),
    ("UPDATE_TIME", Tag::UPDATE_TIME),
    ("OPERATION_TYPE", Tag::OPERATION_TYPE),
    ("REQUIRE_ATTR_ENCRYPTED", Tag::REQUIRE_ATTR_ENCRYPTED),
    ("GROUP_ID", Tag::GROUP_ID),
    ("WRAP_TYPE", Tag::WRAP_TYPE),
];

/// Every public tag with its name.
pub fn all_tags() -> &'static [(&'static str, u32)] {
    ALL_TAGS
}

/// The d.ts name of a public tag.
pub fn tag_name(tag: u32) -> Option<&'static str> {
    ALL_TAGS.iter().find(|(_, t)| *t == tag).map(|(n, _)| *n)
}

/// The critical label tags, in order.
pub const CRITICAL_LABELS: [u32; 4] = [
    Tag::DATA_LABEL_CRITICAL_1,
    Tag::DATA_LABEL_CRITICAL_2,
    Tag::DATA_LABEL_CRITICAL_3,
    Tag::DATA_LABEL_CRITICAL_4,
];
/// The normal label tags, in order.
pub const NORMAL_LABELS: [u32; 4] = [
    Tag::DATA_LABEL_NORMAL_1,
    Tag::DATA_LABEL_NORMAL_2,
    Tag::DATA_LABEL_NORMAL_3,
    Tag::DATA_LABEL_NORMAL_4,
];
/// The local label tags, in order.
pub const LOCAL_LABELS: [u32; 4] = [
    Tag::DATA_LABEL_NORMAL_LOCAL_1,
    Tag::DATA_LABEL_NORMAL_LOCAL_2,
    Tag::DATA_LABEL_NORMAL_LOCAL_3,
    Tag::DATA_LABEL_NORMAL_LOCAL_4,
];

/// Declares a `#[repr(u32)]` enum with its d.ts names and a checked conversion from `u32`.
macro_rules! number_enum {
    ($(#[$doc:meta])* $name:ident { $( $(#[$vdoc:meta])* $variant:ident = $value:expr, $js:literal; )* }) => {
        $(#[$doc])*
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vdoc])* $variant = $value, )*
        }

        impl $name {
            /// Every member with its d.ts name.
            pub const ALL: &'static [(&'static str, $name)] = &[ $( ($js, $name::$variant), )* ];

            /// The member with this number.
            pub fn from_u32(n: u32) -> Option<$name> {
                match n {
                    $( x if x == $value => Some($name::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

number_enum! {
    /// When an asset's secret can be read (`asset.Accessibility`).
    Accessibility {
        /// After the device powered on.
        DevicePoweredOn = 0, "DEVICE_POWERED_ON";
        /// After the first unlock since boot (the default).
        DeviceFirstUnlocked = 1, "DEVICE_FIRST_UNLOCKED";
        /// Only while the device is unlocked.
        DeviceUnlocked = 2, "DEVICE_UNLOCKED";
    }
}

number_enum! {
    /// The user authentication an asset needs (`asset.AuthType`).
    AuthType {
        /// None (the default).
        None = 0x00, "NONE";
        /// Any enrolled credential (PIN, face, fingerprint).
        Any = 0xFF, "ANY";
    }
}

number_enum! {
    /// What add does when the alias exists (`asset.ConflictResolution`).
    ConflictResolution {
        /// Replace the existing asset.
        Overwrite = 0, "OVERWRITE";
        /// Fail with 24000003 (the default).
        ThrowError = 1, "THROW_ERROR";
    }
}

number_enum! {
    /// What a query returns (`asset.ReturnType`).
    ReturnType {
        /// Secret and attributes (one asset, by alias).
        All = 0, "ALL";
        /// Attributes only (the default).
        Attributes = 1, "ATTRIBUTES";
    }
}

number_enum! {
    /// An extra operation on the asset (`asset.OperationType`).
    OperationType {
        /// Sync the asset now.
        NeedSync = 0, "NEED_SYNC";
        /// Log the account out.
        NeedLogout = 1, "NEED_LOGOUT";
    }
}

number_enum! {
    /// How an asset may be wrapped for import/export (`asset.WrapType`).
    WrapType {
        /// Never wrapped (the default).
        Never = 0, "NEVER";
        /// Only on devices with a trusted account logged in.
        TrustedAccount = 1, "TRUSTED_ACCOUNT";
    }
}

/// The bits of `asset.SyncType`: a mask, so any value below 8 is valid.
pub struct SyncType;

impl SyncType {
    /// Never synced (the default).
    pub const NEVER: u32 = 0;
    /// Reserved: this device only.
    pub const THIS_DEVICE: u32 = 1 << 0;
    /// Travels between trusted devices (device clone through backup/restore).
    pub const TRUSTED_DEVICE: u32 = 1 << 1;
    /// Travels through the trusted account (cloud).
    pub const TRUSTED_ACCOUNT: u32 = 1 << 2;
    /// Every member with its d.ts name.
    pub const ALL: &'static [(&'static str, u32)] = &[
        ("NEVER", SyncType::NEVER),
        ("THIS_DEVICE", SyncType::THIS_DEVICE),
        ("TRUSTED_DEVICE", SyncType::TRUSTED_DEVICE),
        ("TRUSTED_ACCOUNT", SyncType::TRUSTED_ACCOUNT),
    ];
}
