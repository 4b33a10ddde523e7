'use strict';
// @ohos.security.asset (and @kit.AssetStoreKit's `asset`): the asset store of the calling app on
// the process's default device. On OpenHarmony the system knows the calling app; here it is
// $OHFILE_BUNDLE (its bundle name), read at each call like $OHFILE_ROOT.
//
// The facade only translates: an AssetMap (Map<Tag, boolean | number | Uint8Array>) crosses to the
// addon packed in one buffer (see pack), and the core checks every tag and limit. Promise forms run
// on libuv's pool; *Sync forms run on the calling thread and throw.
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

// The buffers calls pack into and querySync answers into, kept between calls: an ArrayBuffer
// costs about a microsecond to make, as much as the rest of the packing. Each call zeroes what it
// used (secrets pass through them); the addon copies what it needs before it returns.
let scratch = new ArrayBuffer(4096);
let scratchWords = new Uint32Array(scratch);
let scratchBytes = new Uint8Array(scratch);
let answer = new ArrayBuffer(16384);
let answerWords = new Uint32Array(answer);
let answerBytes = new Uint8Array(answer);

/** Grows the packing buffer to at least `size` bytes, keeping its first `keep` bytes. */
function room(size, keep) {
  if (size <= scratch.byteLength) return;
  let grown = scratch.byteLength;
  while (grown < size) grown *= 2;
  const old = scratchBytes;
  scratch = new ArrayBuffer(grown);
  scratchWords = new Uint32Array(scratch);
  scratchBytes = new Uint8Array(scratch);
  scratchBytes.set(old.subarray(0, keep));
  old.fill(0);
}

/**
 * Packs an AssetMap for the addon at byte `at` (a multiple of 4) of the packing buffer: per
 * attribute [tag, kind, a, b] as u32s (bool: a = 0/1; number: a; bytes: offset a, length b), then
 * the byte values. Returns the end of the packing. A value must be a boolean, an integer in
 * 0..2^32-1 or a Uint8Array; which of them a tag takes, and every limit, the core checks.
 */
function pack(map, name, code, at = 0) {
  if (!(map instanceof Map)) throw businessError(code, `${name} must be an AssetMap (a Map<Tag, Value>)`);
  let total = 0;
  for (const [tag, value] of map) {
    if (!Number.isInteger(tag) || tag < 0 || tag > U32_MAX) {
      throw businessError(code, `${name}: the key ${String(tag)} is not a Tag`);
    }
    if (value instanceof Uint8Array) total += value.length;
    else if (typeof value !== 'boolean' && !(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= U32_MAX)) {
      throw businessError(code, `${name}: the value of tag ${tag} must be a boolean, an integer in 0..4294967295 or a Uint8Array`);
    }
  }
  const base = at + map.size * 16;
  room(base + total, at);
  let w = at >>> 2;
  let off = 0;
  for (const [tag, value] of map) {
    scratchWords[w] = tag;
    if (typeof value === 'boolean') {
      scratchWords[w + 1] = KIND_BOOL;
      scratchWords[w + 2] = value ? 1 : 0;
      scratchWords[w + 3] = 0;
    } else if (typeof value === 'number') {
      scratchWords[w + 1] = KIND_NUMBER;
      scratchWords[w + 2] = value;
      scratchWords[w + 3] = 0;
    } else {
      scratchWords[w + 1] = KIND_BYTES;
      scratchWords[w + 2] = off;
      scratchWords[w + 3] = value.length;
      scratchBytes.set(value, base + off);
      off += value.length;
    }
    w += 4;
  }
  return base + total;
}

/** Runs `call` with the packing of `map` (see pack), zeroing the buffer afterwards. */
function packed(map, name, code, call) {
  const end = pack(map, name, code);
  try {
    return call(scratchBytes, map.size);
  } finally {
    scratchBytes.fill(0, 0, end);
  }
}

/** A plain Uint8Array of the addon's bytes (not a Buffer: it must print and compare as one). */
function bytes(v) {
  return v instanceof Uint8Array && v.constructor !== Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : v;
}

/**
 * The addon's packed query results (`len` bytes of `buf`, `words` a Uint32Array view of its
 * start) → Array<AssetMap>, each byte value in its own buffer; then zeroes them. The packing: a
 * u32 n, n u32s ([rows, (attributes, [tag, kind, a, b]...)...]), then the byte values.
 */
function unpack(buf, words, len) {
  const base = 4 + 4 * words[0];
  const rows = [];
  let p = 1;
  const count = words[p++];
  for (let r = 0; r < count; r++) {
    const attrs = words[p++];
    const row = new Map();
    for (let k = 0; k < attrs; k++, p += 4) {
      const kind = words[p + 1];
      const a = words[p + 2];
      row.set(words[p], kind === KIND_BOOL ? a !== 0 : kind === KIND_NUMBER ? a : buf.slice(base + a, base + a + words[p + 3]));
    }
    rows.push(row);
  }
  buf.fill(0, 0, len); // the copies are the caller's; no secret stays behind
  return rows;
}

/** Query results the addon returned in a buffer of their own. */
function unpackOwn(out) {
  return unpack(out, new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2), out.length);
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
  return packed(attributes, 'attributes', INVALID_ARGUMENT, (p, n) => later((who) => native.assetAdd(deviceRoot(), who, p, n))).then(() => undefined);
}

function addSync(attributes) {
  packed(attributes, 'attributes', INVALID_ARGUMENT, (p, n) => sync(() => native.assetAddSync(deviceRoot(), owner(), p, n)));
}

function remove(query) {
  return packed(query, 'query', INVALID_ARGUMENT, (p, n) => later((who) => native.assetRemove(deviceRoot(), who, p, n))).then(() => undefined);
}

function removeSync(query) {
  packed(query, 'query', INVALID_ARGUMENT, (p, n) => sync(() => native.assetRemoveSync(deviceRoot(), owner(), p, n)));
}

/** Runs `call` with the packings of a query and an update (one after the other in the buffer). */
function packedTwo(query, update, call) {
  const second = (pack(query, 'query', INVALID_ARGUMENT) + 3) & ~3;
  let end = second;
  try {
    end = pack(update, 'attributesToUpdate', INVALID_ARGUMENT, second);
    return call(scratchBytes, query.size, scratchBytes.subarray(second), update.size);
  } finally {
    scratchBytes.fill(0, 0, end);
  }
}

function update(query, attributesToUpdate) {
  return packedTwo(query, attributesToUpdate, (q, qn, u, un) => later((who) => native.assetUpdate(deviceRoot(), who, q, qn, u, un))).then(() => undefined);
}

function updateSync(query, attributesToUpdate) {
  packedTwo(query, attributesToUpdate, (q, qn, u, un) => sync(() => native.assetUpdateSync(deviceRoot(), owner(), q, qn, u, un)));
}

function preQuery(query) {
  return packed(query, 'query', INVALID_ARGUMENT, (p, n) => later((who) => native.assetPreQuery(deviceRoot(), who, p, n))).then(bytes);
}

function preQuerySync(query) {
  return bytes(packed(query, 'query', INVALID_ARGUMENT, (p, n) => sync(() => native.assetPreQuerySync(deviceRoot(), owner(), p, n))));
}

function query(q) {
  return packed(q, 'query', INVALID_ARGUMENT, (p, n) => later((who) => native.assetQuery(deviceRoot(), who, p, n))).then(unpackOwn);
}

function querySync(q) {
  const out = packed(q, 'query', INVALID_ARGUMENT, (p, n) => sync(() => native.assetQuerySync(deviceRoot(), owner(), p, n, answerBytes)));
  if (typeof out === 'number') return unpack(answerBytes, answerWords, out);
  // Too large for the answer buffer: next time it fits.
  answer = new ArrayBuffer(2 ** Math.ceil(Math.log2(out.length)));
  answerWords = new Uint32Array(answer);
  answerBytes = new Uint8Array(answer);
  return unpackOwn(out);
}

function postQuery(handle) {
  return packed(handle, 'handle', INVALID_ARGUMENT, (p, n) => later((who) => native.assetPostQuery(deviceRoot(), who, p, n))).then(() => undefined);
}

function postQuerySync(handle) {
  packed(handle, 'handle', INVALID_ARGUMENT, (p, n) => sync(() => native.assetPostQuerySync(deviceRoot(), owner(), p, n)));
}

/**
 * querySyncResult(query): Promise<SyncResult>. Its errors (24000018 for any argument) arrive
 * through the Promise. The counts are omitted when the core omits them (a failed sync that
 * counted nothing).
 */
function querySyncResult(q) {
  let result;
  try {
    result = packed(q, 'query', PARAM_VERIFICATION_FAILED, (p, n) => later((who) => native.assetQuerySyncResult(deviceRoot(), who, p, n)));
  } catch (e) {
    return Promise.reject(e);
  }
  return result.then((r) => {
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
