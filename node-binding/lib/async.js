'use strict';
// OpenHarmony's two async styles over one Promise: with a trailing AsyncCallback the result goes
// to `callback(err, value)` (err undefined on success) and the call returns undefined; without
// one, the Promise is returned. The callback runs outside the promise chain, so an exception it
// throws surfaces like any other uncaught exception instead of becoming a silent rejection.
const { fromNative } = require('./errors');

function nativeCall(promise) {
  return promise.then(
    (v) => v,
    (e) => {
      throw fromNative(e);
    },
  );
}

function settle(promise, callback) {
  if (typeof callback !== 'function') return promise;
  promise.then(
    (value) => process.nextTick(callback, undefined, value),
    (err) => process.nextTick(callback, err),
  );
  return undefined;
}

module.exports = { nativeCall, settle };
