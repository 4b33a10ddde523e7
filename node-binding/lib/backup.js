'use strict';
// @ohos.file.backup
const native = require('./native');
const { Code, businessError } = require('./errors');
const { nativeCall, settle } = require('./async');
const { deviceRoot } = require('./device');

function checkIncrementalTimes(list) {
  return list.map((item, i) => {
    if (item === null || typeof item !== 'object') {
      throw businessError(Code.PARAMETER_ERROR, `dataList[${i}] is not an IncrementalBackupTime`);
    }
    if (typeof item.bundleName !== 'string') {
      throw businessError(Code.PARAMETER_ERROR, `dataList[${i}].bundleName must be a string`);
    }
    if (!Number.isSafeInteger(item.lastIncrementalTime)) {
      throw businessError(Code.PARAMETER_ERROR, `dataList[${i}].lastIncrementalTime must be an integer (Unix seconds)`);
    }
    return { bundleName: item.bundleName, lastIncrementalTime: item.lastIncrementalTime };
  });
}

/**
 * getLocalCapabilities(callback) | getLocalCapabilities(): Promise<FileData>
 * | getLocalCapabilities(dataList: Array<IncrementalBackupTime>): Promise<FileData>
 */
function getLocalCapabilities(arg) {
  let list = null;
  let callback;
  if (typeof arg === 'function') callback = arg;
  else if (Array.isArray(arg)) list = checkIncrementalTimes(arg);
  else if (arg !== undefined) {
    throw businessError(Code.PARAMETER_ERROR, 'getLocalCapabilities takes a callback, an Array<IncrementalBackupTime>, or nothing');
  }
  const promise = nativeCall(native.backupGetLocalCapabilities(deviceRoot(), list)).then((fd) => ({ fd }));
  return settle(promise, callback);
}

const sessions = require('./backup-session');

const backup = { getLocalCapabilities, ...sessions };
module.exports = backup;
