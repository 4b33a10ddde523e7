'use strict';
// ohfile's software stand-in for OpenHarmony's user authentication (@ohos.userIAM.userAuth, which
// a real app calls between asset.preQuery and asset.query): turns the challenge of one of the
// calling app's open preQuery sessions into the AUTH_TOKEN that query takes with that
// AUTH_CHALLENGE. The calling app is $OHFILE_BUNDLE, the device $OHFILE_ROOT.
const native = require('./native');
const { Code, businessError } = require('./errors');
const { nativeCall } = require('./async');
const { deviceRoot } = require('./device');

/** authenticate(challenge: Uint8Array): Promise<Uint8Array> (the auth token). */
function authenticate(challenge) {
  if (!(challenge instanceof Uint8Array)) throw businessError(Code.PARAMETER_ERROR, 'challenge must be a Uint8Array');
  const owner = process.env.OHFILE_BUNDLE;
  if (!owner) return Promise.reject(businessError(24000011, 'the calling app is unknown: set OHFILE_BUNDLE to its bundle name'));
  return nativeCall(native.assetAuthenticateUser(deviceRoot(), owner, challenge)).then(
    (t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength),
  );
}

module.exports = { authenticate };
