'use strict';
// `import { util } from '@kit.ArkTS'` (and `@ohos.util`): the few helpers of ArkTS's util that
// the documented examples use, on Node's own implementations. ArkTS's TextEncoder differs from the
// WHATWG one in one place: `encodeInto(input)` with one argument returns the bytes (ArkTS), while
// `encodeInto(input, dest)` keeps the WHATWG meaning; `encodeIntoUint8Array` is ArkTS's name for
// the latter.
const nodeUtil = require('node:util');
const { randomUUID } = require('node:crypto');
const { Code, businessError } = require('./errors');

const UTF8 = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8']);

class TextEncoder extends globalThis.TextEncoder {
  /** ArkTS: `new util.TextEncoder(encoding?)`; only UTF-8 is provided here. */
  constructor(encoding = 'utf-8') {
    if (typeof encoding !== 'string' || !UTF8.has(encoding.toLowerCase())) {
      throw businessError(Code.PARAMETER_ERROR, `TextEncoder: the encoding ${String(encoding)} is not supported (utf-8 only)`);
    }
    super();
  }

  /** ArkTS: `util.TextEncoder.create(encoding?)`. */
  static create(encoding) {
    return new TextEncoder(encoding);
  }

  /** ArkTS: the bytes of `input` ("" when absent); with `dest`, the WHATWG form ({read, written}). */
  encodeInto(input = '', dest) {
    if (dest !== undefined) return super.encodeInto(input, dest);
    return super.encode(String(input));
  }

  /** ArkTS: writes `input` into `dest`; returns {read, written}. */
  encodeIntoUint8Array(input, dest) {
    if (!(dest instanceof Uint8Array)) throw businessError(Code.PARAMETER_ERROR, 'encodeIntoUint8Array: dest must be a Uint8Array');
    return super.encodeInto(String(input), dest);
  }
}

class TextDecoder extends globalThis.TextDecoder {
  /** ArkTS: `util.TextDecoder.create(encoding?, {fatal?, ignoreBOM?})`. */
  static create(encoding = 'utf-8', options = undefined) {
    return new TextDecoder(encoding, options);
  }

  /** ArkTS: the text of `input`; `{stream: true}` keeps an incomplete sequence for the next call. */
  decodeToString(input, options = undefined) {
    return this.decode(input, options);
  }

  /** ArkTS (deprecated since 12, still in use): as decodeToString. */
  decodeWithStream(input, options = undefined) {
    return this.decode(input, options);
  }
}

const util = Object.freeze({
  TextEncoder,
  TextDecoder,
  /** printf-like formatting (`%s`, `%d`, `%i`, `%f`, `%j`, `%o`, `%O`). */
  format: (...args) => nodeUtil.format(...args),
  /** A Promise-returning form of an error-first callback function. */
  promisify: (fn) => nodeUtil.promisify(fn),
  /** A random RFC 4122 version-4 UUID string. */
  generateRandomUUID: () => randomUUID(),
});

exports.util = util;
