'use strict';
// The part of @ohos.file.fileuri that the cloud examples use: `getUriFromPath(path)` turns a
// sandbox path of the calling app ($OHFILE_BUNDLE) into its `file://<bundle><path>` uri, and
// `FileUri` takes such a uri (or a path) apart.
const { Code, businessError } = require('./errors');
const { callingBundle } = require('./device');

const PARAMETER_MESSAGE = 'The input parameter is invalid';

function invalid(detail) {
  const err = businessError(Code.PARAMETER_ERROR);
  err.message = `${PARAMETER_MESSAGE}: ${detail}`;
  return err;
}

// What may stand in a uri path as is; everything else is percent-encoded, byte by byte (UTF-8).
// The same set as the core's `SyncScope::uri_for`, so both spell one file alike.
const KEEP = /[A-Za-z0-9\-_.~!$&'()*+,;=:@/]/;

function encodePath(path) {
  let out = '';
  for (const ch of path) {
    if (KEEP.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decodePath(path) {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** getUriFromPath('/data/storage/el2/cloud/1.txt') → 'file://<bundle>/data/storage/el2/cloud/1.txt'. */
function getUriFromPath(path) {
  if (arguments.length !== 1 || typeof path !== 'string' || path === '') throw invalid('getUriFromPath takes one path (a non-empty string)');
  const bundle = callingBundle();
  if (!bundle) throw invalid('getUriFromPath needs the calling app: set $OHFILE_BUNDLE to its bundle name');
  return `file://${bundle}${encodePath(path.startsWith('/') ? path : `/${path}`)}`;
}

/** new FileUri(uriOrPath): `path` (decoded), `name` (last segment), `toString()` (the uri). */
class FileUri {
  #uri;
  #path;

  constructor(uriOrPath) {
    if (typeof uriOrPath !== 'string' || uriOrPath === '') throw invalid('FileUri takes a uri or a path');
    if (uriOrPath.startsWith('file://')) {
      this.#uri = uriOrPath;
      const rest = uriOrPath.slice('file://'.length);
      const slash = rest.indexOf('/');
      this.#path = slash < 0 ? '' : decodePath(rest.slice(slash).replace(/[?#].*$/, ''));
    } else {
      this.#uri = getUriFromPath(uriOrPath);
      this.#path = uriOrPath;
    }
  }

  /** The path the uri names. */
  get path() {
    return this.#path;
  }

  /** The file name: the last path segment. */
  get name() {
    const parts = this.#path.split('/').filter(Boolean);
    return parts.length ? parts[parts.length - 1] : '';
  }

  toString() {
    return this.#uri;
  }
}

module.exports = { getUriFromPath, FileUri };
