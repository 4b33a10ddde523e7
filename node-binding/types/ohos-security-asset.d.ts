// `@ohos.security.asset` and `@kit.AssetStoreKit`, as OpenHarmony declares them (API 11–20). The
// calling app is $OHFILE_BUNDLE; the device is $OHFILE_ROOT.

declare module '@ohos.security.asset' {
  namespace asset {
    /** Adds an asset (SECRET and ALIAS required). */
    function add(attributes: AssetMap): Promise<void>;
    /** Adds an asset; throws a BusinessError. */
    function addSync(attributes: AssetMap): void;
    /** Removes the assets that match `query`. */
    function remove(query: AssetMap): Promise<void>;
    /** Removes the assets that match `query`; throws a BusinessError. */
    function removeSync(query: AssetMap): void;
    /** Updates the asset `query` names (by ALIAS). */
    function update(query: AssetMap, attributesToUpdate: AssetMap): Promise<void>;
    /** Updates the asset `query` names (by ALIAS); throws a BusinessError. */
    function updateSync(query: AssetMap, attributesToUpdate: AssetMap): void;
    /** Opens a user-authentication session; resolves with its 32-byte challenge. */
    function preQuery(query: AssetMap): Promise<Uint8Array>;
    /** Opens a user-authentication session; returns its challenge or throws a BusinessError. */
    function preQuerySync(query: AssetMap): Uint8Array;
    /** The assets that match `query` (none: 24000002). */
    function query(query: AssetMap): Promise<Array<AssetMap>>;
    /** The assets that match `query`; throws a BusinessError. */
    function querySync(query: AssetMap): Array<AssetMap>;
    /** Ends the user-authentication session whose AUTH_CHALLENGE `handle` holds. */
    function postQuery(handle: AssetMap): Promise<void>;
    /** Ends a user-authentication session; throws a BusinessError. */
    function postQuerySync(handle: AssetMap): void;
    /** How the last sync of the app's assets went (API 20); `query` may hold GROUP_ID and REQUIRE_ATTR_ENCRYPTED. */
    function querySyncResult(query: AssetMap): Promise<SyncResult>;

    /** Attributes by tag. */
    type AssetMap = Map<Tag, Value>;
    /** The value of an attribute: its tag's top four bits say which. */
    type Value = boolean | number | Uint8Array;

    /** How the last sync went. The counts are absent when the sync failed before counting. */
    interface SyncResult {
      readonly resultCode: number;
      readonly totalCount?: number;
      readonly failedCount?: number;
    }

    enum Accessibility {
      DEVICE_POWERED_ON = 0,
      DEVICE_FIRST_UNLOCKED = 1,
      DEVICE_UNLOCKED = 2,
    }

    enum AuthType {
      NONE = 0x00,
      ANY = 0xff,
    }

    enum SyncType {
      NEVER = 0,
      THIS_DEVICE = 1 << 0,
      TRUSTED_DEVICE = 1 << 1,
      TRUSTED_ACCOUNT = 1 << 2,
    }

    enum WrapType {
      NEVER = 0,
      TRUSTED_ACCOUNT = 1,
    }

    enum ConflictResolution {
      OVERWRITE = 0,
      THROW_ERROR = 1,
    }

    enum ReturnType {
      ALL = 0,
      ATTRIBUTES = 1,
    }

    enum OperationType {
      NEED_SYNC = 0,
      NEED_LOGOUT = 1,
    }

    enum TagType {
      BOOL = 0x01 << 28,
      NUMBER = 0x02 << 28,
      BYTES = 0x03 << 28,
    }

    enum Tag {
      SECRET = TagType.BYTES | 0x01,
      ALIAS = TagType.BYTES | 0x02,
      ACCESSIBILITY = TagType.NUMBER | 0x03,
      REQUIRE_PASSWORD_SET = TagType.BOOL | 0x04,
      AUTH_TYPE = TagType.NUMBER | 0x05,
      AUTH_VALIDITY_PERIOD = TagType.NUMBER | 0x06,
      AUTH_CHALLENGE = TagType.BYTES | 0x07,
      AUTH_TOKEN = TagType.BYTES | 0x08,
      SYNC_TYPE = TagType.NUMBER | 0x10,
      IS_PERSISTENT = TagType.BOOL | 0x11,
      DATA_LABEL_CRITICAL_1 = TagType.BYTES | 0x20,
      DATA_LABEL_CRITICAL_2 = TagType.BYTES | 0x21,
      DATA_LABEL_CRITICAL_3 = TagType.BYTES | 0x22,
      DATA_LABEL_CRITICAL_4 = TagType.BYTES | 0x23,
      DATA_LABEL_NORMAL_1 = TagType.BYTES | 0x30,
      DATA_LABEL_NORMAL_2 = TagType.BYTES | 0x31,
      DATA_LABEL_NORMAL_3 = TagType.BYTES | 0x32,
      DATA_LABEL_NORMAL_4 = TagType.BYTES | 0x33,
      DATA_LABEL_NORMAL_LOCAL_1 = TagType.BYTES | 0x34,
      DATA_LABEL_NORMAL_LOCAL_2 = TagType.BYTES | 0x35,
      DATA_LABEL_NORMAL_LOCAL_3 = TagType.BYTES | 0x36,
      DATA_LABEL_NORMAL_LOCAL_4 = TagType.BYTES | 0x37,
      RETURN_TYPE = TagType.NUMBER | 0x40,
      RETURN_LIMIT = TagType.NUMBER | 0x41,
      RETURN_OFFSET = TagType.NUMBER | 0x42,
      RETURN_ORDERED_BY = TagType.NUMBER | 0x43,
      CONFLICT_RESOLUTION = TagType.NUMBER | 0x44,
      UPDATE_TIME = TagType.BYTES | 0x45,
      OPERATION_TYPE = TagType.NUMBER | 0x46,
      REQUIRE_ATTR_ENCRYPTED = TagType.BOOL | 0x47,
      GROUP_ID = TagType.BYTES | 0x48,
      WRAP_TYPE = TagType.NUMBER | 0x49,
    }

    enum ErrorCode {
      PERMISSION_DENIED = 201,
      NOT_SYSTEM_APPLICATION = 202,
      INVALID_ARGUMENT = 401,
      SERVICE_UNAVAILABLE = 24000001,
      NOT_FOUND = 24000002,
      DUPLICATED = 24000003,
      ACCESS_DENIED = 24000004,
      STATUS_MISMATCH = 24000005,
      OUT_OF_MEMORY = 24000006,
      DATA_CORRUPTED = 24000007,
      DATABASE_ERROR = 24000008,
      CRYPTO_ERROR = 24000009,
      IPC_ERROR = 24000010,
      BMS_ERROR = 24000011,
      ACCOUNT_ERROR = 24000012,
      ACCESS_TOKEN_ERROR = 24000013,
      FILE_OPERATION_ERROR = 24000014,
      GET_SYSTEM_TIME_ERROR = 24000015,
      LIMIT_EXCEEDED = 24000016,
      UNSUPPORTED = 24000017,
      PARAM_VERIFICATION_FAILED = 24000018,
      INCONSISTENT_ATTRIBUTE = 24000019,
    }
  }
  export default asset;
}

declare module '@kit.AssetStoreKit' {
  import asset from '@ohos.security.asset';
  export { asset };
}
