'use strict';
// BusinessError-shaped errors: Error instances with a numeric `code`, the documented message and,
// where the docs say so, `data`. Messages come from the core's one error table.
const native = require('./native');

const MESSAGES = new Map(native.errorMessages());
const NATIVE_TAG = '\u0001ohfile:';

/** The public codes the facade itself raises. */
const Code = Object.freeze({
  PARAMETER_ERROR: 401,
  INVALID_ARGUMENT: 13900020,
  UNKNOWN_ERROR: 13900042,
});

function businessError(code, detail, data) {
  const base = MESSAGES.get(code) || MESSAGES.get(Code.UNKNOWN_ERROR);
  // A documented message that is a sentence takes the detail as another sentence (no ".:").
  const err = new Error(detail ? `${base}${base.endsWith('.') ? ' ' : ': '}${detail}` : base);
  err.code = code;
  if (data !== undefined && data !== null) err.data = data;
  return err;
}

/** Turns an error thrown by the addon into a BusinessError. */
function fromNative(e) {
  if (e && typeof e.message === 'string' && e.message.startsWith(NATIVE_TAG)) {
    const p = JSON.parse(e.message.slice(NATIVE_TAG.length));
    const err = businessError(p.code, null, p.data);
    err.message = p.message;
    return err;
  }
  if (e instanceof Error && typeof e.code === 'number') return e;
  return businessError(Code.UNKNOWN_ERROR, String((e && e.message) || e));
}

/** The documented message of a code. */
function messageOf(code) {
  return MESSAGES.get(code);
}

/** The public code of an errno (13900001..13900042), from the core's table. */
function codeForErrno(errno) {
  return native.codeForErrno(errno);
}

module.exports = { Code, businessError, fromNative, messageOf, codeForErrno };
