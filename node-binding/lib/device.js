'use strict';
// The Node modules act on the process's default device: $OHFILE_ROOT, read at each call (null
// lets the core apply its ${XDG_DATA_HOME:-$HOME/.local/share}/ohfile fallback).
function deviceRoot() {
  const root = process.env.OHFILE_ROOT;
  return root ? root : null;
}

module.exports = { deviceRoot };
