'use strict';
// The part of @ohos.file.fs that the backup/restore/cloud examples use, over Node's fs: fds are
// real descriptors, so what the services hand out can be read, written, stat'ed and closed here.
const nodeFs = require('node:fs');
const { Code, businessError, codeForErrno } = require('./errors');

const OpenMode = Object.freeze({
  READ_ONLY: 0o0,
  WRITE_ONLY: 0o1,
  READ_WRITE: 0o2,
  CREATE: 0o100,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DIR: 0o200000,
  NOFOLLOW: 0o400000,
  SYNC: 0o4010000,
});

function wrap(fn) {
  try {
    return fn();
  } catch (e) {
    if (e && typeof e.errno === 'number' && typeof e.code === 'string') {
      throw businessError(codeForErrno(-e.errno), e.message);
    }
    throw e;
  }
}

function fdOf(file) {
  if (typeof file === 'number' && Number.isInteger(file)) return file;
  if (file && typeof file === 'object' && Number.isInteger(file.fd)) return file.fd;
  throw businessError(Code.INVALID_ARGUMENT, 'expected an fd or a File');
}

function bytesOf(buffer) {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw businessError(Code.INVALID_ARGUMENT, 'expected an ArrayBuffer');
}

class Stat {
  constructor(s) {
    this.ino = s.ino;
    this.mode = s.mode;
    this.uid = s.uid;
    this.gid = s.gid;
    this.size = s.size;
    this.atime = Math.floor(s.atimeMs / 1000);
    this.mtime = Math.floor(s.mtimeMs / 1000);
    this.ctime = Math.floor(s.ctimeMs / 1000);
    this.atimeNs = s.atimeNs;
    Object.defineProperty(this, '_s', { value: s });
  }
  isFile() { return this._s.isFile(); }
  isDirectory() { return this._s.isDirectory(); }
  isSymbolicLink() { return this._s.isSymbolicLink(); }
  isFIFO() { return this._s.isFIFO(); }
  isSocket() { return this._s.isSocket(); }
  isBlockDevice() { return this._s.isBlockDevice(); }
  isCharacterDevice() { return this._s.isCharacterDevice(); }
}

function openSync(path, mode = OpenMode.READ_ONLY) {
  const fd = wrap(() => nodeFs.openSync(path, mode, 0o660));
  return { fd, path, name: require('node:path').basename(path) };
}

function closeSync(file) {
  const fd = fdOf(file);
  wrap(() => nodeFs.closeSync(fd));
}

/** readSync(fd, buffer, {offset?: position in the file, length?}) → bytes read. */
function readSync(fd, buffer, options = {}) {
  const bytes = bytesOf(buffer);
  const length = options.length ?? bytes.byteLength;
  const position = options.offset ?? null;
  return wrap(() => nodeFs.readSync(fdOf(fd), bytes, 0, length, position));
}

/** writeSync(fd, ArrayBuffer | string, {offset?, length?, encoding?}) → bytes written. */
function writeSync(fd, buffer, options = {}) {
  const bytes = typeof buffer === 'string' ? Buffer.from(buffer, options.encoding || 'utf-8') : bytesOf(buffer);
  const length = options.length ?? bytes.byteLength;
  const position = options.offset ?? null;
  return wrap(() => nodeFs.writeSync(fdOf(fd), bytes, 0, length, position));
}

function statSync(file) {
  if (typeof file === 'string') return new Stat(wrap(() => nodeFs.statSync(file, { bigint: false })));
  return new Stat(wrap(() => nodeFs.fstatSync(fdOf(file))));
}

function accessSync(path) {
  return nodeFs.existsSync(path);
}

function readTextSync(path, options = {}) {
  return wrap(() => nodeFs.readFileSync(path, options.encoding || 'utf-8'));
}

module.exports = {
  OpenMode,
  openSync,
  closeSync,
  readSync,
  writeSync,
  statSync,
  fstatSync: statSync,
  accessSync,
  readTextSync,
};
