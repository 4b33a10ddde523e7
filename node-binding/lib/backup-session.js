'use strict';
// SessionBackup and SessionRestore of @ohos.file.backup, over the native session. Events arrive
// through one function and are turned into the GeneralCallbacks calls the docs describe.
const path = require('node:path');
const nodeFs = require('node:fs');
const native = require('./native');
const { Code, businessError, fromNative } = require('./errors');
const { nativeCall, settle } = require('./async');
const { deviceRoot } = require('./device');

/** Where and how the service starts app extensions. */
function serviceOptions() {
  return {
    root: deviceRoot(),
    nodeExecutable: process.execPath,
    hostScript: path.join(__dirname, 'extension-host.mjs'),
    callerName: path.basename(process.argv[1] || 'node'),
  };
}

function invalid(detail) {
  return businessError(Code.INVALID_ARGUMENT, detail);
}

function checkNames(names) {
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw invalid('bundlesToBackup must be an array of bundle names');
  }
}

/** (infos?: string[] | callback) → { infos, callback } */
function infosOrCallback(arg) {
  if (typeof arg === 'function') return { infos: null, callback: arg };
  if (arg === undefined || arg === null) return { infos: null, callback: undefined };
  if (Array.isArray(arg) && arg.every((s) => typeof s === 'string')) return { infos: arg, callback: undefined };
  throw invalid('infos must be an array of strings');
}

function checkFileMeta(fileMeta) {
  if (!fileMeta || typeof fileMeta !== 'object' || typeof fileMeta.bundleName !== 'string' || typeof fileMeta.uri !== 'string') {
    throw invalid('fileMeta must be {bundleName: string, uri: string}');
  }
}

function errorOf(ev) {
  const err = businessError(ev.code, null, ev.bundleName ?? undefined);
  err.message = ev.message;
  return err;
}

function closeQuietly(fd) {
  if (Number.isInteger(fd)) {
    try {
      nodeFs.closeSync(fd);
    } catch {
      /* already closed */
    }
  }
}

class Session {
  #native;
  #callbacks;
  #keepAlive = null;
  #pending = 0;
  #fileShape;

  constructor(kind, callbacks) {
    if (!callbacks || typeof callbacks !== 'object') throw invalid('callbacks must be a GeneralCallbacks object');
    this.#callbacks = callbacks;
    // Backup files are {bundleName, uri, fd}; restore and incremental files also carry manifestFd.
    this.#fileShape = kind;
    try {
      const scenario = kind === 'incremental' ? 'backup' : kind;
      this.#native = new native.NativeSession(serviceOptions(), scenario, (ev) => this.#dispatch(ev));
    } catch (e) {
      throw fromNative(e);
    }
  }

  // The native side holds JS only weakly; while bundles are in flight the event loop must stay
  // open so that their events can still arrive.
  #hold() {
    this.#pending += 1;
    if (!this.#keepAlive) this.#keepAlive = setInterval(() => {}, 1 << 30);
  }

  #letGo() {
    this.#pending = 0;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
  }

  #call(name, ...args) {
    const f = this.#callbacks[name];
    if (typeof f !== 'function') return false;
    try {
      f.apply(this.#callbacks, args);
    } catch (e) {
      // An exception in a callback is the app's uncaught exception, not the service's problem.
      process.nextTick(() => {
        throw e;
      });
    }
    return true;
  }

  #dispatch(ev) {
    switch (ev.kind) {
      case 'fileReady': {
        if (ev.code) {
          this.#call('onFileReady', errorOf(ev));
          break;
        }
        const file = { bundleName: ev.bundleName, uri: ev.uri, fd: ev.fd };
        // Restore and incremental files are API 12's File, with a manifest fd.
        if (this.#fileShape !== 'backup') file.manifestFd = ev.manifestFd ?? -1;
        // Without an onFileReady nobody would close the fds.
        if (!this.#call('onFileReady', undefined, file)) {
          closeQuietly(ev.fd);
          closeQuietly(ev.manifestFd);
        }
        break;
      }
      case 'bundleBegin':
        if (ev.code) this.#call('onBundleBegin', errorOf(ev));
        else this.#call('onBundleBegin', undefined, ev.bundleName);
        break;
      case 'bundleEnd':
        if (ev.code) this.#call('onBundleEnd', errorOf(ev));
        else this.#call('onBundleEnd', undefined, ev.bundleName);
        break;
      case 'allBundlesEnd':
        this.#letGo();
        this.#call('onAllBundlesEnd', ev.code ? errorOf(ev) : undefined);
        break;
      case 'serviceDied':
        this.#letGo();
        this.#call('onBackupServiceDied');
        break;
      case 'resultReport':
        this.#call('onResultReport', ev.bundleName, ev.text);
        break;
      case 'process':
        this.#call('onProcess', ev.bundleName, ev.text);
        break;
      case 'backupSizeReport':
        this.#call('onBackupSizeReport', ev.text);
        break;
      default:
        break;
    }
  }

  /** Runs an append: holds the loop open until onAllBundlesEnd (or a rejection with nothing in flight). */
  _append(promise) {
    this.#hold();
    return nativeCall(promise).catch((e) => {
      this.#pending -= 1;
      if (this.#pending <= 0) this.#letGo();
      throw e;
    });
  }

  _native() {
    return this.#native;
  }

  /** release(): ends the session; later calls fail with 13900020. */
  release() {
    return nativeCall(this.#native.release()).finally(() => this.#letGo());
  }

  /** getLocalCapabilities(): the session's capability file (bundles that allow backup). */
  getLocalCapabilities() {
    return nativeCall(this.#native.getLocalCapabilities()).then((fd) => ({ fd }));
  }

  /** cancel(bundleName): 0, 13500011 (not started) or 13500012 (no such bundle). */
  cancel(bundleName) {
    if (typeof bundleName !== 'string') throw businessError(Code.PARAMETER_ERROR, 'cancel takes a bundle name');
    try {
      return this.#native.cancel(bundleName);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** cleanBundleTempDir(bundleName) → Promise<boolean>. */
  cleanBundleTempDir(bundleName) {
    if (typeof bundleName !== 'string') throw businessError(Code.PARAMETER_ERROR, 'cleanBundleTempDir takes a bundle name');
    return nativeCall(this.#native.cleanBundleTempDir(bundleName));
  }

  /** getCompatibilityInfo(bundleName, extInfo) → Promise<string> ("" when the app has none or is late). */
  getCompatibilityInfo(bundleName, extInfo) {
    if (typeof bundleName !== 'string' || typeof extInfo !== 'string') {
      throw businessError(Code.PARAMETER_ERROR, 'getCompatibilityInfo takes (bundleName: string, extInfo: string)');
    }
    return nativeCall(this.#native.getCompatibilityInfo(bundleName, extInfo));
  }
}

function checkTimes(list) {
  if (!Array.isArray(list)) throw businessError(Code.PARAMETER_ERROR, 'dataList must be an Array<IncrementalBackupTime>');
  return list.map((t, i) => {
    if (!t || typeof t.bundleName !== 'string' || !Number.isSafeInteger(t.lastIncrementalTime)) {
      throw businessError(Code.PARAMETER_ERROR, `dataList[${i}] must be {bundleName: string, lastIncrementalTime: integer}`);
    }
    return { bundleName: t.bundleName, lastIncrementalTime: t.lastIncrementalTime };
  });
}

/** getBackupDataSize(isPreciseScan, dataList): results come through onBackupSizeReport. */
function getBackupDataSize(session, isPreciseScan, dataList) {
  if (typeof isPreciseScan !== 'boolean') throw businessError(Code.PARAMETER_ERROR, 'isPreciseScan must be a boolean');
  return nativeCall(session._native().getBackupDataSize(isPreciseScan, checkTimes(dataList)));
}

/** new backup.SessionBackup(callbacks) */
class SessionBackup extends Session {
  constructor(callbacks) {
    super('backup', callbacks);
  }

  /** getBackupDataSize(isPreciseScan, dataList) → Promise<void>; reports via onBackupSizeReport. */
  getBackupDataSize(isPreciseScan, dataList) {
    return getBackupDataSize(this, isPreciseScan, dataList);
  }

  /** appendBundles(names, infos?) → Promise<void> | appendBundles(names, callback) */
  appendBundles(bundlesToBackup, infosOrCb) {
    checkNames(bundlesToBackup);
    const { infos, callback } = infosOrCallback(infosOrCb);
    return settle(this._append(this._native().appendBackup(bundlesToBackup, infos)), callback);
  }
}

/** new backup.SessionRestore(callbacks) */
class SessionRestore extends Session {
  constructor(callbacks) {
    super('restore', callbacks);
  }

  /** appendBundles(capabilitiesFd, names, infos?) → Promise<void> | (fd, names, callback) */
  appendBundles(remoteCapabilitiesFd, bundlesToBackup, infosOrCb) {
    if (!Number.isInteger(remoteCapabilitiesFd)) throw invalid('remoteCapabilitiesFd must be an fd (an integer)');
    checkNames(bundlesToBackup);
    const { infos, callback } = infosOrCallback(infosOrCb);
    return settle(this._append(this._native().appendRestore(remoteCapabilitiesFd, bundlesToBackup, infos)), callback);
  }

  /** getFileHandle(fileMeta) → Promise<void> | (fileMeta, callback); the fd comes through onFileReady. */
  getFileHandle(fileMeta, callback) {
    checkFileMeta(fileMeta);
    return settle(nativeCall(this._native().getFileHandle(fileMeta.bundleName, fileMeta.uri)), callback);
  }

  /** publishFile({bundleName, uri: ''}) → Promise<void> | (fileMeta, callback) */
  publishFile(fileMeta, callback) {
    checkFileMeta(fileMeta);
    return settle(nativeCall(this._native().publishFile(fileMeta.bundleName, fileMeta.uri)), callback);
  }
}

/** new backup.IncrementalBackupSession(callbacks) */
class IncrementalBackupSession extends Session {
  constructor(callbacks) {
    super('incremental', callbacks);
  }

  /** appendBundles(Array<IncrementalBackupData>, infos?) → Promise<void> */
  appendBundles(bundlesToAppend, infos) {
    if (!Array.isArray(bundlesToAppend)) throw invalid('bundlesToAppend must be an Array<IncrementalBackupData>');
    const list = bundlesToAppend.map((d, i) => {
      const bad = (what) => invalid(`bundlesToAppend[${i}].${what}`);
      if (!d || typeof d !== 'object') throw invalid(`bundlesToAppend[${i}] is not an IncrementalBackupData`);
      if (typeof d.bundleName !== 'string') throw bad('bundleName must be a string');
      if (!Number.isSafeInteger(d.lastIncrementalTime)) throw bad('lastIncrementalTime must be an integer (Unix seconds)');
      if (!Number.isInteger(d.manifestFd)) throw bad('manifestFd must be an fd (an integer)');
      if (d.parameters !== undefined && typeof d.parameters !== 'string') throw bad('parameters must be a string');
      if (d.priority !== undefined && !Number.isSafeInteger(d.priority)) throw bad('priority must be an integer');
      return { bundleName: d.bundleName, lastIncrementalTime: d.lastIncrementalTime, manifestFd: d.manifestFd, parameters: d.parameters, priority: d.priority };
    });
    const { infos: strings } = infosOrCallback(infos);
    return this._append(this._native().appendIncremental(list, strings));
  }

  /** getBackupDataSize(isPreciseScan, dataList) → Promise<void>; reports via onBackupSizeReport. */
  getBackupDataSize(isPreciseScan, dataList) {
    return getBackupDataSize(this, isPreciseScan, dataList);
  }
}

/** backup.getBackupVersion(): the JSON text {"backupVersion" : "…"}. */
function getBackupVersion() {
  return native.backupGetBackupVersion();
}

/** backup.getBackupInfo(bundle): the app extension's text, or undefined on any failure. */
function getBackupInfo(bundleToBackup) {
  if (arguments.length !== 1 || typeof bundleToBackup !== 'string') throw invalid('getBackupInfo takes one bundle name');
  try {
    const info = native.backupGetBackupInfo(serviceOptions(), bundleToBackup);
    return info === null ? undefined : info;
  } catch (e) {
    throw fromNative(e);
  }
}

function checkTimerArgs(args, what) {
  if (args.length !== 2 || typeof args[0] !== 'string' || !Number.isInteger(args[1])) {
    throw businessError(Code.PARAMETER_ERROR, `${what} takes (bundleName: string, ${what === 'updateTimer' ? 'timeout' : 'sendRate'}: integer)`);
  }
}

/** backup.updateTimer(bundle, ms): true when the running bundle's timer was restarted. */
function updateTimer(...args) {
  checkTimerArgs(args, 'updateTimer');
  try {
    return native.backupUpdateTimer(args[0], args[1]);
  } catch (e) {
    throw fromNative(e);
  }
}

/** backup.updateSendRate(bundle, rate): true when the running bundle's rate was changed. */
function updateSendRate(...args) {
  checkTimerArgs(args, 'updateSendRate');
  try {
    return native.backupUpdateSendRate(args[0], args[1]);
  } catch (e) {
    throw fromNative(e);
  }
}

module.exports = { SessionBackup, SessionRestore, IncrementalBackupSession, getBackupInfo, getBackupVersion, updateTimer, updateSendRate };
