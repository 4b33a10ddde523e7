'use strict';
// The Node modules act on the process's default device: $OHFILE_ROOT, read at each call (null
// lets the core apply its ${XDG_DATA_HOME:-$HOME/.local/share}/ohfile fallback).
function deviceRoot() {
  const root = process.env.OHFILE_ROOT;
  return root ? root : null;
}

// The calling app, for the APIs that act on "the app itself" (cloudSync.FileSync(),
// CloudFileCache(), fileUri.getUriFromPath): $OHFILE_BUNDLE, read at each call; null when unset.
function callingBundle() {
  const bundle = process.env.OHFILE_BUNDLE;
  return bundle ? bundle : null;
}

module.exports = { deviceRoot, callingBundle };
