'use strict';
// @ohos.security.asset (and @kit.AssetStoreKit's `asset`): the asset store of the calling app on
// the process's default device. On OpenHarmony the system knows the calling app; here it is
// $OHFILE_BUNDLE (its bundle name), read at each call like $OHFILE_ROOT.
//
// The facade only translates: an AssetMap (Map<Tag, boolean | number | Uint8Array>) crosses to the
// addon packed in two typed arrays (see pack), and the core checks every tag and limit. Promise forms run on
// libuv's pool; *Sync forms run on the calling thread and throw.
const native = require('./native');
const { Code, businessError, fromNative } = require('./errors');
const { nativeCall } = require('./async');
const { deviceRoot } = require('./device');

const BUNDLE_ENV = 'OHFILE_BUNDLE';
const INVALID_ARGUMENT = Code.PARAMETER_ERROR; // 401
const PARAM_VERIFICATION_FAILED = 24000018;
const BMS_ERROR = 24000011;

const enums = native.assetEnums();
const table = (pairs) => Object.freeze(Object.fromEntries(pairs));

/** The value type of a tag (its top four bits). */
const TagType = Object.freeze({ BOOL: 0x01 << 28, NUMBER: 0x02 << 28, BYTES: 0x03 << 28 });
/** Every tag, from the core's table (type | id). */
const Tag = table(enums.tags);
const Accessibility = table(enums.accessibility);
const AuthType = table(enums.authType);
const SyncType = table(enums.syncType);
const ConflictResolution = table(enums.conflictResolution);
const ReturnType = table(enums.returnType);
const OperationType = table(enums.operationType);
const WrapType = table(enums.wrapType);

const ErrorCode = Object.freeze({
  PERMISSION_DENIED: 201,
  NOT_SYSTEM_APPLICATION: 202,
  INVALID_ARGUMENT: 401,
  SERVICE_UNAVAILABLE: 24000001,
  NOT_FOUND: 24000002,
  DUPLICATED: 24000003,
  ACCESS_DENIED: 24000004,
  STATUS_MISMATCH: 24000005,
  OUT_OF_MEMORY: 24000006,
  DATA_CORRUPTED: 24000007,
  DATABASE_ERROR: 24000008,
  CRYPTO_ERROR: 24000009,
  IPC_ERROR: 24000010,
  BMS_ERROR: 24000011,
  ACCOUNT_ERROR: 24000012,
  ACCESS_TOKEN_ERROR: 24000013,
  FILE_OPERATION_ERROR: 24000014,
  GET_SYSTEM_TIME_ERROR: 24000015,
  LIMIT_EXCEEDED: 24000016,
  UNSUPPORTED: 24000017,
  PARAM_VERIFICATION_FAILED: 24000018,
  INCONSISTENT_ATTRIBUTE: 24000019,
});

const U32_MAX = 0xffffffff;
const KIND_BOOL = 1;
const KIND_NUMBER = 2;
const KIND_BYTES = 3;

/**
 * An AssetMap as the addon takes it: [desc, bytes], `desc` a Uint32Array of [tag, kind, a, b] per
 * attribute (bool: a = 0/1; number: a; bytes: offset a, length b in `bytes`). A value must be a
 * boolean, an integer in 0..2^32-1 or a Uint8Array; which of them a tag takes, and every limit, the
 * core checks.
 */
function pack(map, name, code) {
  if (!(map instanceof Map)) throw businessError(code, `${name} must be an AssetMap (a Map<Tag, Value>)`);
  const desc = new Uint32Array(map.size * 4);
  let total = 0;
  let i = 0;
  for (const [tag, value] of map) {
    if (!Number.isInteger(tag) || tag < 0 || tag > U32_MAX) {
      throw businessError(code, `${name}: the key ${String(tag)} is not a Tag`);
    }
    desc[i] = tag;
    if (typeof value === 'boolean') {
      desc[i + 1] = KIND_BOOL;
      desc[i + 2] = value ? 1 : 0;
    } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= U32_MAX) {
      desc[i + 1] = KIND_NUMBER;
      desc[i + 2] = value;
    } else if (value instanceof Uint8Array) {
      desc[i + 1] = KIND_BYTES;
      desc[i + 2] = total;
      desc[i + 3] = value.length;
      total += value.length;
    } else {
      throw businessError(code, `${name}: the value of tag ${tag} must be a boolean, an integer in 0..4294967295 or a Uint8Array`);
    }
    i += 4;
  }
  const bytes = new Uint8Array(total);
  i = 0;
  for (const value of map.values()) {
    if (desc[i + 1] === KIND_BYTES) bytes.set(value, desc[i + 2]);
    i += 4;
  }
  return [desc, bytes];
}

/** A plain Uint8Array of the addon's bytes (not a Buffer: it must print and compare as one). */
function bytes(v) {
  return v instanceof Uint8Array && v.constructor !== Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : v;
}

/** The addon's packed query results → Array<AssetMap>, each byte value in its own buffer. */
function unpack({ desc, bytes: all }) {
  const rows = [];
  let p = 0;
  const count = desc[p++];
  for (let r = 0; r < count; r++) {
    const n = desc[p++];
    const row = new Map();
    for (let k = 0; k < n; k++, p += 4) {
      const kind = desc[p + 1];
      row.set(desc[p], kind === KIND_BOOL ? desc[p + 2] !== 0 : kind === KIND_NUMBER ? desc[p + 2] : all.slice(desc[p + 2], desc[p + 2] + desc[p + 3]));
    }
    rows.push(row);
  }
  all.fill(0); // the copies are the caller's; no secret stays behind in the addon's buffer
  return rows;
}

/** The calling app; throws 24000011 when $OHFILE_BUNDLE is not set. */
function owner() {
  const name = process.env[BUNDLE_ENV];
  if (!name) throw businessError(BMS_ERROR, `the calling app is unknown: set ${BUNDLE_ENV} to its bundle name`);
  return name;
}

/** Runs a *Sync native call, rethrowing its error as a BusinessError. */
function sync(fn) {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

/** A Promise form: argument errors throw now (as OpenHarmony's do), everything else rejects. */
function later(start) {
  let who;
  try {
    who = owner();
  } catch (e) {
    return Promise.reject(e);
  }
  return nativeCall(start(who));
}

function add(attributes) {
  const [d, b] = pack(attributes, 'attributes', INVALID_ARGUMENT);
  return later((who) => native.assetAdd(deviceRoot(), who, d, b)).then(() => undefined);
}

function addSync(attributes) {
  const [d, b] = pack(attributes, 'attributes', INVALID_ARGUMENT);
  sync(() => native.assetAddSync(deviceRoot(), owner(), d, b));
}

function remove(query) {
  const [d, b] = pack(query, 'query', INVALID_ARGUMENT);
  return later((who) => native.assetRemove(deviceRoot(), who, d, b)).then(() => undefined);
}

function removeSync(query) {
  const [d, b] = pack(query, 'query', INVALID_ARGUMENT);
  sync(() => native.assetRemoveSync(deviceRoot(), owner(), d, b));
}

function update(query, attributesToUpdate) {
  const [qd, qb] = pack(query, 'query', INVALID_ARGUMENT);
  const [ud, ub] = pack(attributesToUpdate, 'attributesToUpdate', INVALID_ARGUMENT);
  return later((who) => native.assetUpdate(deviceRoot(), who, qd, qb, ud, ub)).then(() => undefined);
}

function updateSync(query, attributesToUpdate) {
  const [qd, qb] = pack(query, 'query', INVALID_ARGUMENT);
  const [ud, ub] = pack(attributesToUpdate, 'attributesToUpdate', INVALID_ARGUMENT);
  sync(() => native.assetUpdateSync(deviceRoot(), owner(), qd, qb, ud, ub));
}

function preQuery(query) {
  const [d, b] = pack(query, 'query', INVALID_ARGUMENT);
  return later((who) => native.assetPreQuery(deviceRoot(), who, d, b)).then(bytes);
}

function preQuerySync(query) {
  const [d, b] = pack(query, 'query', INVALID_ARGUMENT);
  return bytes(sync(() => native.assetPreQuerySync(deviceRoot(), owner(), d, b)));
}

function query(q) {
  const [d, b] = pack(q, 'query', INVALID_ARGUMENT);
  return later((who) => native.assetQuery(deviceRoot(), who, d, b)).then(unpack);
}

function querySync(q) {
  const [d, b] = pack(q, 'query', INVALID_ARGUMENT);
  return unpack(sync(() => native.assetQuerySync(deviceRoot(), owner(), d, b)));
}

function postQuery(handle) {
  const [d, b] = pack(handle, 'handle', INVALID_ARGUMENT);
  return later((who) => native.assetPostQuery(deviceRoot(), who, d, b)).then(() => undefined);
}

function postQuerySync(handle) {
  const [d, b] = pack(handle, 'handle', INVALID_ARGUMENT);
  sync(() => native.assetPostQuerySync(deviceRoot(), owner(), d, b));
}

/**
 * querySyncResult(query): Promise<SyncResult>. Its errors (24000018 for any argument) arrive
 * through the Promise. The counts are omitted when the core omits them (a failed sync that
 * counted nothing).
 */
function querySyncResult(q) {
  let packed;
  try {
    packed = pack(q, 'query', PARAM_VERIFICATION_FAILED);
  } catch (e) {
    return Promise.reject(e);
  }
  return later((who) => native.assetQuerySyncResult(deviceRoot(), who, ...packed)).then((r) => {
    const res = { resultCode: r.resultCode };
    if (r.totalCount !== undefined && r.totalCount !== null) res.totalCount = r.totalCount;
    if (r.failedCount !== undefined && r.failedCount !== null) res.failedCount = r.failedCount;
    return res;
  });
}

const asset = {
  add,
  addSync,
  remove,
  removeSync,
  update,
  updateSync,
  preQuery,
  preQuerySync,
  query,
  querySync,
  postQuery,
  postQuerySync,
  querySyncResult,
  TagType,
  Tag,
  Accessibility,
  AuthType,
  SyncType,
  ConflictResolution,
  ReturnType,
  OperationType,
  WrapType,
  ErrorCode,
};
module.exports = asset;
