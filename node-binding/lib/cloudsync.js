'use strict';
// @ohos.file.cloudSync over the native syncer and downloader: FileSync, GallerySync,
// CloudFileCache, Download, getFileSyncState and the documented enums.
//
// Keeping the process alive: a registered listener never does (the native side holds it through
// a weak threadsafe function), so a script that only listens exits. Work does: from start() until
// the run (and any run queued behind it) has ended, and from a download's start() until nothing
// of that object downloads any more, an interval holds the event loop open. It polls the native
// `isBusy()` and lets go a few polls after it turns false, so the run's last events (COMPLETED,
// STOPPED, …), already queued on their way to JS, are delivered before the loop may end.
const native = require('./native');
const { Code, businessError, fromNative, messageOf } = require('./errors');
const { settle } = require('./async');
const { deviceRoot, callingBundle } = require('./device');

const SyncState = Object.freeze({ UPLOADING: 0, UPLOAD_FAILED: 1, DOWNLOADING: 2, DOWNLOAD_FAILED: 3, COMPLETED: 4, STOPPED: 5 });
const ErrorType = Object.freeze({
  NO_ERROR: 0,
  NETWORK_UNAVAILABLE: 1,
  WIFI_UNAVAILABLE: 2,
  BATTERY_LEVEL_LOW: 3,
  BATTERY_LEVEL_WARNING: 4,
  CLOUD_STORAGE_FULL: 5,
  LOCAL_STORAGE_FULL: 6,
  DEVICE_TEMPERATURE_TOO_HIGH: 7,
  REMOTE_SERVER_ABNORMAL: 8,
  RESPONSE_TIME_OUT: 9,
  UNKNOWN_ERROR: 10,
});
const State = Object.freeze({ RUNNING: 0, COMPLETED: 1, FAILED: 2, STOPPED: 3, MISSING: 4 });
const DownloadErrorType = Object.freeze({
  NO_ERROR: 0,
  UNKNOWN_ERROR: 1,
  NETWORK_UNAVAILABLE: 2,
  LOCAL_STORAGE_FULL: 3,
  CONTENT_NOT_FOUND: 4,
  FREQUENT_USER_REQUESTS: 5,
});
const FileSyncState = Object.freeze({ UPLOADING: 0, DOWNLOADING: 1, COMPLETED: 2, STOPPED: 3, TO_BE_UPLOADED: 4, UPLOAD_SUCCESS: 5, UPLOAD_FAILURE: 6 });
const UploadState = Object.freeze({ WAITING: 0, RUNNING: 1, COMPLETED: 2, FAILED: 3, STOPPED: 4, PAUSED: 5 });
const FileState = Object.freeze({ INITIAL_AFTER_DOWNLOAD: 0, UPLOADING: 1, STOPPED: 2, TO_BE_UPLOADED: 3, UPLOAD_SUCCESS: 4, UPLOAD_FAILURE: 5 });
const NotifyType = Object.freeze({ NOTIFY_ADDED: 0, NOTIFY_MODIFIED: 1, NOTIFY_DELETED: 2, NOTIFY_RENAMED: 3 });
const DownloadFileType = Object.freeze({ CONTENT: 0, THUMBNAIL: 1, LCD: 2 });
const OptimizeState = Object.freeze({ RUNNING: 0, COMPLETED: 1, FAILED: 2, STOPPED: 3 });

// ---- errors ----------------------------------------------------------------------------------

// cloudSync documents 401 as "The input parameter is invalid" (the universal table's wording is
// longer); the detail after it says which argument.
const PARAMETER_MESSAGE = 'The input parameter is invalid';
const MAX_STATE_URIS = 100; // the batch getFileSyncState limit of OpenHarmony's NAPI

function invalid(detail) {
  const err = businessError(Code.PARAMETER_ERROR);
  err.message = `${PARAMETER_MESSAGE}: ${detail}`;
  return err;
}

/** A native error as a cloudSync BusinessError. */
function fail(e) {
  const err = fromNative(e);
  const universal = messageOf(Code.PARAMETER_ERROR);
  if (err.code === Code.PARAMETER_ERROR && typeof err.message === 'string' && err.message.startsWith(universal)) {
    err.message = PARAMETER_MESSAGE + err.message.slice(universal.length);
  }
  return err;
}

function call(promise) {
  return promise.then(
    (v) => v,
    (e) => {
      throw fail(e);
    },
  );
}

/** The promise of a native call; a check that throws first becomes its rejection. */
function attempt(fn) {
  try {
    return call(fn());
  } catch (e) {
    return Promise.reject(fail(e));
  }
}

function sync(fn) {
  try {
    return fn();
  } catch (e) {
    throw fail(e);
  }
}

// ---- keep-alive while work is in flight ------------------------------------------------------

const REPLAY_WAIT_MS = 1000;
const POLL_MS = 50;
const IDLE_POLLS = 3; // consecutive idle polls before letting go (queued events drain meanwhile)
const inFlight = new Map(); // native object → { calls: pending native calls, idle: idle polls }
let keepAlive = null;

function poll() {
  for (const [nat, w] of inFlight) {
    if (w.calls > 0) continue;
    let busy = false;
    try {
      busy = nat.isBusy();
    } catch {
      busy = false;
    }
    if (busy) w.idle = 0;
    else if (++w.idle >= IDLE_POLLS) inFlight.delete(nat);
  }
  if (inFlight.size === 0 && keepAlive) {
    clearInterval(keepAlive);
    keepAlive = null;
  }
}

/** Holds the loop open while `promise` is pending and afterwards while `nat` is busy. */
function track(nat, promise) {
  let w = inFlight.get(nat);
  if (!w) {
    w = { calls: 0, idle: 0 };
    inFlight.set(nat, w);
  }
  w.calls += 1;
  w.idle = 0;
  if (!keepAlive) keepAlive = setInterval(poll, POLL_MS);
  const done = () => {
    w.calls -= 1;
  };
  promise.then(done, done);
  return promise;
}

// ---- argument checks -------------------------------------------------------------------------

/** (…fixed, callback?) where a trailing undefined counts as absent; more → 401. */
function splitCallback(args, fixed, what) {
  let n = args.length;
  while (n > fixed && args[n - 1] === undefined) n -= 1;
  if (n === fixed) return undefined;
  if (n === fixed + 1 && typeof args[fixed] === 'function') return args[fixed];
  throw invalid(`${what}`);
}

function checkEvent(evt, what) {
  if (evt !== 'progress') throw invalid(`${what}: the event must be 'progress'`);
}

function checkUri(uri, what) {
  if (typeof uri !== 'string') throw invalid(`${what}: uri must be a string`);
}

// `file:///media/…` (an empty authority: a path of the device) names the gallery folder
// `<root>/media/` as `file://media/…` does; the gallery examples spell it that way.
function galleryUri(uri) {
  return uri.startsWith('file:///media/') ? `file://media/${uri.slice('file:///media/'.length)}` : uri;
}

function deliver(cb, value) {
  try {
    cb(value);
  } catch (e) {
    // An exception in a listener is the app's uncaught exception, not the service's problem.
    process.nextTick(() => {
      throw e;
    });
  }
}

// ---- FileSync / GallerySync ------------------------------------------------------------------

/** What FileSync and GallerySync share: one progress callback, start and stop. */
class SyncBase {
  #native;
  #callback = null;

  constructor(open) {
    this.#native = sync(open);
  }

  /** on('progress', callback): a second registration while one is active is ignored. */
  on(...args) {
    if (args.length !== 2 || typeof args[1] !== 'function') throw invalid("on takes ('progress', callback)");
    checkEvent(args[0], 'on');
    if (this.#callback) return;
    this.#callback = args[1];
    let replay = null;
    const replayed = this.#native.listen((ev) => {
      if (replay) {
        clearTimeout(replay);
        replay = null;
      }
      if (this.#callback) deliver(this.#callback, ev);
    });
    // The syncer told the new listener its current state, which is on its way to JS: the loop
    // stays open until it has arrived (at most a second), so even a script that ends right
    // after on() sees it. The listener itself never holds the loop.
    if (replayed) replay = setTimeout(() => {}, REPLAY_WAIT_MS);
  }

  /** off('progress'[, callback]): unregisters the instance's callback. */
  off(...args) {
    if (args.length < 1 || args.length > 2 || (args[1] !== undefined && typeof args[1] !== 'function')) {
      throw invalid("off takes ('progress'[, callback])");
    }
    checkEvent(args[0], 'off');
    if (!this.#callback) return;
    this.#callback = null;
    this.#native.unlisten();
  }

  /** start() → Promise<void> | start(callback): 22400001/2/3 when the device cannot sync now. */
  start(...args) {
    const callback = splitCallback(args, 0, 'start takes no argument or a callback');
    return settle(track(this.#native, call(this.#native.start())), callback);
  }

  /** stop() → Promise<void> | stop(callback): the run ends with STOPPED; fine when idle. */
  stop(...args) {
    const callback = splitCallback(args, 0, 'stop takes no argument or a callback');
    return settle(track(this.#native, call(this.#native.stop())), callback);
  }

  _native() {
    return this.#native;
  }
}

/** new cloudSync.GallerySync(): syncs the gallery (`<root>/media/`). */
class GallerySync extends SyncBase {
  constructor(...args) {
    if (args.length > 0) throw invalid('GallerySync takes no argument');
    const root = deviceRoot();
    super(() => native.NativeSyncer.forGallery(root));
  }
}

/** new cloudSync.FileSync([bundleName]): syncs an app's cloud folder (default: the calling app). */
class FileSync extends SyncBase {
  constructor(...args) {
    if (args.length > 1) throw invalid('FileSync takes at most a bundle name');
    let bundle = args[0];
    if (bundle === undefined) {
      bundle = callingBundle();
      if (!bundle) throw invalid('FileSync() syncs the calling app: set $OHFILE_BUNDLE to its bundle name');
    } else if (typeof bundle !== 'string' || bundle === '') {
      throw invalid('bundleName must be a non-empty string');
    }
    const root = deviceRoot();
    super(() => native.NativeSyncer.forApp(root, bundle));
  }

  /** getLastSyncTime() → Promise<number> | (callback): ms of the last successful run, 0 before. */
  getLastSyncTime(...args) {
    const callback = splitCallback(args, 0, 'getLastSyncTime takes no argument or a callback');
    return settle(call(this._native().lastSyncTime()), callback);
  }
}

// ---- CloudFileCache / Download ---------------------------------------------------------------

/** What CloudFileCache and Download share: progress listeners, start and stop by uri. */
class DownloadBase {
  #native;
  #listeners = [];
  #listening = false;

  constructor(open) {
    this.#native = sync(open);
  }

  /** on('progress', callback). */
  on(...args) {
    if (args.length !== 2 || typeof args[1] !== 'function') throw invalid("on takes ('progress', callback)");
    checkEvent(args[0], 'on');
    this.#listeners.push(args[1]);
    if (!this.#listening) {
      this.#listening = true;
      this.#native.listen((ev) => {
        for (const cb of this.#listeners.slice()) deliver(cb, ev);
      });
    }
  }

  /** off('progress', callback) drops that callback; off('progress') drops them all. */
  off(...args) {
    if (args.length < 1 || args.length > 2 || (args[1] !== undefined && typeof args[1] !== 'function')) {
      throw invalid("off takes ('progress'[, callback])");
    }
    checkEvent(args[0], 'off');
    if (args[1] === undefined) this.#listeners = [];
    else this.#listeners = this.#listeners.filter((cb) => cb !== args[1]);
    if (this.#listeners.length === 0 && this.#listening) {
      this.#listening = false;
      this.#native.unlisten();
    }
  }

  _uri(uri) {
    return uri;
  }

  /** start(uri) → Promise<void> | start(uri, callback): progress follows through on('progress'). */
  start(...args) {
    const callback = splitCallback(args, 1, 'start takes (uri[, callback])');
    checkUri(args[0], 'start');
    return settle(track(this.#native, attempt(() => this.#native.start(this._uri(args[0])))), callback);
  }

  _stop(uri, needClean, callback) {
    return settle(track(this.#native, attempt(() => this.#native.stop(this._uri(uri), needClean))), callback);
  }

  _native() {
    return this.#native;
  }
}

/** new cloudSync.CloudFileCache([bundleName]): downloads an app's cloud-only files on demand. */
class CloudFileCache extends DownloadBase {
  #prefix;

  constructor(...args) {
    if (args.length > 1) throw invalid('CloudFileCache takes at most a bundle name');
    let bundle = args[0];
    if (bundle === undefined) {
      bundle = callingBundle();
      if (!bundle) throw invalid('CloudFileCache() acts for the calling app: set $OHFILE_BUNDLE to its bundle name');
    } else if (typeof bundle !== 'string' || bundle === '') {
      throw invalid('bundleName must be a non-empty string');
    }
    const root = deviceRoot();
    super(() => native.NativeDownloader.forFileCache(root));
    this.#prefix = `file://${bundle}/`;
  }

  // An app reaches only its own files: another app's uri does not name a file of its sandbox.
  _uri(uri) {
    if (uri.startsWith('file://') && !uri.startsWith(this.#prefix)) {
      throw businessError(14000002, `${JSON.stringify(uri)} is not a file of ${this.#prefix.slice(7, -1)}`);
    }
    return uri;
  }

  /** stop(uri[, needClean]) → Promise<void> | stop(uri[, needClean], callback). */
  stop(...args) {
    let n = args.length;
    while (n > 1 && args[n - 1] === undefined) n -= 1;
    const rest = args.slice(0, n);
    const callback = typeof rest[rest.length - 1] === 'function' && rest.length > 1 ? rest.pop() : undefined;
    if (rest.length < 1 || rest.length > 2 || (rest.length === 2 && rest[1] !== undefined && typeof rest[1] !== 'boolean')) {
      throw invalid('stop takes (uri[, needClean: boolean][, callback])');
    }
    checkUri(rest[0], 'stop');
    return this._stop(rest[0], rest[1] === true, callback);
  }

  /** cleanCache(uri), synchronous: frees the local copy of a synced file (it stays cloud-only). */
  cleanCache(...args) {
    if (args.length !== 1) throw invalid('cleanCache takes (uri)');
    checkUri(args[0], 'cleanCache');
    const uri = this._uri(args[0]);
    sync(() => this._native().cleanCache(uri));
  }
}

/** new cloudSync.Download(): downloads the gallery's cloud-only files. */
class Download extends DownloadBase {
  constructor(...args) {
    if (args.length > 0) throw invalid('Download takes no argument');
    const root = deviceRoot();
    super(() => native.NativeDownloader.forGallery(root));
  }

  _uri(uri) {
    return galleryUri(uri);
  }

  /** stop(uri) → Promise<void> | stop(uri, callback): also deletes the partial data. */
  stop(...args) {
    const callback = splitCallback(args, 1, 'stop takes (uri[, callback])');
    checkUri(args[0], 'stop');
    return this._stop(args[0], true, callback);
  }
}

// ---- getFileSyncState ------------------------------------------------------------------------

/**
 * getFileSyncState(uri) → FileSyncState, synchronous;
 * getFileSyncState(uris) → Promise<FileSyncState[]> | getFileSyncState(uris, callback).
 */
function getFileSyncState(...args) {
  const what = 'getFileSyncState takes (uri: string) or (uris: string[][, callback])';
  if (typeof args[0] === 'string') {
    if (args.length !== 1) throw invalid(what);
    const root = deviceRoot();
    return sync(() => native.cloudFileSyncState(root, galleryUri(args[0])));
  }
  const callback = splitCallback(args, 1, what);
  const uris = args[0];
  if (!Array.isArray(uris) || !uris.every((u) => typeof u === 'string')) throw invalid(what);
  if (uris.length > MAX_STATE_URIS) throw invalid(`getFileSyncState takes at most ${MAX_STATE_URIS} uris`);
  return settle(call(native.cloudFileSyncStates(deviceRoot(), uris.map(galleryUri))), callback);
}

module.exports = {
  SyncState,
  ErrorType,
  State,
  DownloadErrorType,
  FileSyncState,
  UploadState,
  FileState,
  NotifyType,
  DownloadFileType,
  OptimizeState,
  GallerySync,
  FileSync,
  CloudFileCache,
  Download,
  getFileSyncState,
};
