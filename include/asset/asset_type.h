/*
 * ohfile: the types of OpenHarmony's Asset Store Kit NDK (asset/asset_type.h), for Linux.
 *
 * Same names, numbers and layouts as the published NDK header, so that a C program written for
 * OpenHarmony's asset NDK compiles unchanged (`#include "asset/asset_api.h"` with -I<ohfile>/include)
 * and links against libohfile. Written for ohfile; tests/c/asset_ndk_test.c checks that it agrees
 * with the library. The ohfile-specific functions (an explicit device and owner, a software stand-in
 * for user authentication) are in ohfile.h under the ohf_asset_ prefix, with identical layouts.
 */
#ifndef ASSET_TYPE_H
#define ASSET_TYPE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The value type of a tag, kept in its top four bits. */
typedef enum {
    /** The value is a bool (Asset_Value.boolean). */
    ASSET_TYPE_BOOL = 0x1 << 28,
    /** The value is a uint32_t (Asset_Value.u32). */
    ASSET_TYPE_NUMBER = 0x2 << 28,
    /** The value is bytes (Asset_Value.blob). */
    ASSET_TYPE_BYTES = 0x3 << 28,
} Asset_TagType;

/** Selects the value type bits of a tag: `tag & ASSET_TAG_TYPE_MASK` is an Asset_TagType. */
#define ASSET_TAG_TYPE_MASK (0xFu << 28)

/** The attributes of an asset. */
typedef enum {
    /** The secret itself, 1 to 1024 bytes. */
    ASSET_TAG_SECRET = ASSET_TYPE_BYTES | 0x01,
    /** The alias that names the asset, 1 to 256 bytes, unique per app (or per group). */
    ASSET_TAG_ALIAS = ASSET_TYPE_BYTES | 0x02,
    /** When the secret can be read: an Asset_Accessibility. */
    ASSET_TAG_ACCESSIBILITY = ASSET_TYPE_NUMBER | 0x03,
    /** Whether the secret can be read only while a lock-screen password is set. */
    ASSET_TAG_REQUIRE_PASSWORD_SET = ASSET_TYPE_BOOL | 0x04,
    /** The user authentication reading the secret needs: an Asset_AuthType. */
    ASSET_TAG_AUTH_TYPE = ASSET_TYPE_NUMBER | 0x05,
    /** How long a user authentication stays valid, 1 to 600 seconds. */
    ASSET_TAG_AUTH_VALIDITY_PERIOD = ASSET_TYPE_NUMBER | 0x06,
    /** The challenge of a user authentication (32 bytes, from OH_Asset_PreQuery). */
    ASSET_TAG_AUTH_CHALLENGE = ASSET_TYPE_BYTES | 0x07,
    /** The token a successful user authentication produced. */
    ASSET_TAG_AUTH_TOKEN = ASSET_TYPE_BYTES | 0x08,
    /** Where the asset may travel: Asset_SyncType bits. */
    ASSET_TAG_SYNC_TYPE = ASSET_TYPE_NUMBER | 0x10,
    /** Whether the asset is kept when the app is uninstalled. */
    ASSET_TAG_IS_PERSISTENT = ASSET_TYPE_BOOL | 0x11,
    /** An app-defined label bound to the secret's integrity; it cannot be changed. */
    ASSET_TAG_DATA_LABEL_CRITICAL_1 = ASSET_TYPE_BYTES | 0x20,
    /** See ASSET_TAG_DATA_LABEL_CRITICAL_1. */
    ASSET_TAG_DATA_LABEL_CRITICAL_2 = ASSET_TYPE_BYTES | 0x21,
    /** See ASSET_TAG_DATA_LABEL_CRITICAL_1. */
    ASSET_TAG_DATA_LABEL_CRITICAL_3 = ASSET_TYPE_BYTES | 0x22,
    /** See ASSET_TAG_DATA_LABEL_CRITICAL_1. */
    ASSET_TAG_DATA_LABEL_CRITICAL_4 = ASSET_TYPE_BYTES | 0x23,
    /** An app-defined label that can be changed. */
    ASSET_TAG_DATA_LABEL_NORMAL_1 = ASSET_TYPE_BYTES | 0x30,
    /** See ASSET_TAG_DATA_LABEL_NORMAL_1. */
    ASSET_TAG_DATA_LABEL_NORMAL_2 = ASSET_TYPE_BYTES | 0x31,
    /** See ASSET_TAG_DATA_LABEL_NORMAL_1. */
    ASSET_TAG_DATA_LABEL_NORMAL_3 = ASSET_TYPE_BYTES | 0x32,
    /** See ASSET_TAG_DATA_LABEL_NORMAL_1. */
    ASSET_TAG_DATA_LABEL_NORMAL_4 = ASSET_TYPE_BYTES | 0x33,
    /** An app-defined label that can be changed and never leaves the device. */
    ASSET_TAG_DATA_LABEL_NORMAL_LOCAL_1 = ASSET_TYPE_BYTES | 0x34,
    /** See ASSET_TAG_DATA_LABEL_NORMAL_LOCAL_1. */
    ASSET_TAG_DATA_LABEL_NORMAL_LOCAL_2 = ASSET_TYPE_BYTES | 0x35,
    /** See ASSET_TAG_DATA_LABEL_NORMAL_LOCAL_1. */
    ASSET_TAG_DATA_LABEL_NORMAL_LOCAL_3 = ASSET_TYPE_BYTES | 0x36,
    /** See ASSET_TAG_DATA_LABEL_NORMAL_LOCAL_1. */
    ASSET_TAG_DATA_LABEL_NORMAL_LOCAL_4 = ASSET_TYPE_BYTES | 0x37,
    /** What a query returns: an Asset_ReturnType. */
    ASSET_TAG_RETURN_TYPE = ASSET_TYPE_NUMBER | 0x40,
    /** At most this many assets per query, 1 to 65536. */
    ASSET_TAG_RETURN_LIMIT = ASSET_TYPE_NUMBER | 0x41,
    /** How many matching assets a query skips. */
    ASSET_TAG_RETURN_OFFSET = ASSET_TYPE_NUMBER | 0x42,
    /** The label tag a query sorts by (ascending). */
    ASSET_TAG_RETURN_ORDERED_BY = ASSET_TYPE_NUMBER | 0x43,
    /** What adding an existing alias does: an Asset_ConflictResolution. */
    ASSET_TAG_CONFLICT_RESOLUTION = ASSET_TYPE_NUMBER | 0x44,
    /** When the asset last changed: ASCII decimal milliseconds since the epoch. */
    ASSET_TAG_UPDATE_TIME = ASSET_TYPE_BYTES | 0x45,
    /** An extra operation: an Asset_OperationType. */
    ASSET_TAG_OPERATION_TYPE = ASSET_TYPE_NUMBER | 0x46,
    /** Whether the asset's attributes are stored encrypted. */
    ASSET_TAG_REQUIRE_ATTR_ENCRYPTED = ASSET_TYPE_BOOL | 0x47,
    /** The app group the asset belongs to, 7 to 127 bytes. */
    ASSET_TAG_GROUP_ID = ASSET_TYPE_BYTES | 0x48,
    /** How the asset may be wrapped for import and export: an Asset_WrapType. */
    ASSET_TAG_WRAP_TYPE = ASSET_TYPE_NUMBER | 0x49,
} Asset_Tag;

/** What the asset functions return. */
typedef enum {
    /** Success. */
    ASSET_SUCCESS = 0,
    /** The caller lacks a permission. */
    ASSET_PERMISSION_DENIED = 201,
    /** An argument is missing, of the wrong type, or out of range. */
    ASSET_INVALID_ARGUMENT = 401,
    /** The asset service is unavailable. */
    ASSET_SERVICE_UNAVAILABLE = 24000001,
    /** No asset matches. */
    ASSET_NOT_FOUND = 24000002,
    /** An asset with this alias exists. */
    ASSET_DUPLICATED = 24000003,
    /** Access to the asset is denied (for example a wrong authentication token). */
    ASSET_ACCESS_DENIED = 24000004,
    /** The lock-screen state does not allow the access. */
    ASSET_STATUS_MISMATCH = 24000005,
    /** Out of memory. */
    ASSET_OUT_OF_MEMORY = 24000006,
    /** The stored asset is corrupted. */
    ASSET_DATA_CORRUPTED = 24000007,
    /** A database operation failed. */
    ASSET_DATABASE_ERROR = 24000008,
    /** A cryptographic operation failed. */
    ASSET_CRYPTO_ERROR = 24000009,
    /** Inter-process communication failed. */
    ASSET_IPC_ERROR = 24000010,
    /** The bundle manager failed (the calling app is not known). */
    ASSET_BMS_ERROR = 24000011,
    /** The account service failed. */
    ASSET_ACCOUNT_ERROR = 24000012,
    /** The access token service failed. */
    ASSET_ACCESS_TOKEN_ERROR = 24000013,
    /** A file operation failed. */
    ASSET_FILE_OPERATION_ERROR = 24000014,
    /** The system time could not be read. */
    ASSET_GET_SYSTEM_TIME_ERROR = 24000015,
    /** Too many authentication sessions are open. */
    ASSET_LIMIT_EXCEEDED = 24000016,
    /** The operation is not supported. */
    ASSET_UNSUPPORTED = 24000017,
    /** An argument of OH_Asset_QuerySyncResult failed verification. */
    ASSET_PARAM_VERIFICATION_FAILED = 24000018,
} Asset_ResultCode;

/** When a secret can be read. */
typedef enum {
    /** Once the device has powered on. */
    ASSET_ACCESSIBILITY_DEVICE_POWERED_ON = 0,
    /** Once the device has been unlocked after boot (the default). */
    ASSET_ACCESSIBILITY_DEVICE_FIRST_UNLOCKED = 1,
    /** Only while the device is unlocked. */
    ASSET_ACCESSIBILITY_DEVICE_UNLOCKED = 2,
} Asset_Accessibility;

/** The user authentication reading a secret needs. */
typedef enum {
    /** None (the default). */
    ASSET_AUTH_TYPE_NONE = 0x00,
    /** Any enrolled credential: PIN, face or fingerprint. */
    ASSET_AUTH_TYPE_ANY = 0xFF,
} Asset_AuthType;

/** Where an asset may travel (bits). */
typedef enum {
    /** Nowhere (the default). */
    ASSET_SYNC_TYPE_NEVER = 0,
    /** Back to this device only (reserved). */
    ASSET_SYNC_TYPE_THIS_DEVICE = 1 << 0,
    /** To trusted devices, as in a device clone. */
    ASSET_SYNC_TYPE_TRUSTED_DEVICE = 1 << 1,
    /** To devices of the trusted account (reserved). */
    ASSET_SYNC_TYPE_TRUSTED_ACCOUNT = 1 << 2,
} Asset_SyncType;

/** How an asset may be wrapped for import and export. */
typedef enum {
    /** Never (the default). */
    ASSET_WRAP_TYPE_NEVER = 0,
    /** Only on devices where a trusted account is logged in. */
    ASSET_WRAP_TYPE_TRUSTED_ACCOUNT = 1,
} Asset_WrapType;

/** What adding an existing alias does. */
typedef enum {
    /** Replace the existing asset. */
    ASSET_CONFLICT_OVERWRITE = 0,
    /** Fail with ASSET_DUPLICATED (the default). */
    ASSET_CONFLICT_THROW_ERROR = 1,
} Asset_ConflictResolution;

/** What a query returns. */
typedef enum {
    /** The secret and the attributes (one asset, named by its alias). */
    ASSET_RETURN_ALL = 0,
    /** The attributes only (the default). */
    ASSET_RETURN_ATTRIBUTES = 1,
} Asset_ReturnType;

/** An extra operation on an asset. */
typedef enum {
    /** Sync it. */
    ASSET_NEED_SYNC = 0,
    /** Log out. */
    ASSET_NEED_LOGOUT = 1,
} Asset_OperationType;

/** Bytes: `size` bytes at `data`. */
typedef struct {
    /** The number of bytes. */
    uint32_t size;
    /** The bytes. */
    uint8_t *data;
} Asset_Blob;

/** The value of an attribute; which member is meant follows from the tag's type bits. */
typedef union {
    /** For ASSET_TYPE_BOOL tags. */
    bool boolean;
    /** For ASSET_TYPE_NUMBER tags. */
    uint32_t u32;
    /** For ASSET_TYPE_BYTES tags. */
    Asset_Blob blob;
} Asset_Value;

/** One attribute: a tag and its value. */
typedef struct {
    /** An Asset_Tag. */
    uint32_t tag;
    /** Its value. */
    Asset_Value value;
} Asset_Attr;

/** One asset of a query result: its attributes. */
typedef struct {
    /** The number of attributes. */
    uint32_t count;
    /** The attributes. */
    Asset_Attr *attrs;
} Asset_Result;

/** The assets a query found. */
typedef struct {
    /** The number of assets. */
    uint32_t count;
    /** The assets. */
    Asset_Result *results;
} Asset_ResultSet;

/** How the last sync of the app's assets went. */
typedef struct {
    /** 0, or the error code that made the sync fail. */
    int32_t resultCode;
    /** The assets that should have been synced. */
    uint32_t totalCount;
    /** How many of them were not. */
    uint32_t failedCount;
} Asset_SyncResult;

#ifdef __cplusplus
}
#endif

#endif /* ASSET_TYPE_H */
