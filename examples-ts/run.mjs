#!/usr/bin/env node
// Runs every compiled example (examples-ts/build, from `tsc -p examples-ts`) under
// `node --import ohfile/register` against a sample device, as an OpenHarmony app would run, and
// checks what it printed against what the documented behaviour makes it print.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

// com.example.hiworld has a Node backup extension, as an OpenHarmony app would.
const EXTENSION = `import BackupExtensionAbility from '@ohos.application.BackupExtensionAbility';
export default class HiworldBackup extends BackupExtensionAbility {
  getBackupInfo() { return JSON.stringify({ app: 'hiworld', backupDir: this.context.backupDir.length > 0 }); }
  async onBackupEx(backupInfo) { return JSON.stringify({ resultInfo: [{ type: 'CountInfo', infos: [{ details: JSON.parse(backupInfo).length }] }] }); }
  onProcess() { return JSON.stringify({ progressed: 1, total: 1 }); }
}
`;

function sampleDevice() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ohfile-examples-'));
  writeFileSync(path.join(root, 'device.json'), JSON.stringify({ deviceType: 'default', systemFullName: 'OpenHarmony-4.0.0.0' }));
  // The bundles the documents' examples name.
  for (const name of ['com.example.hiworld', 'com.example.myApp', 'com.example.myapplication']) {
    const app = path.join(root, 'apps', name);
    mkdirSync(path.join(app, 'sandbox', 'data', 'storage', 'el2', 'base', 'files'), { recursive: true });
    const bundle = { versionCode: 1000000, versionName: '1.0.0' };
    if (name === 'com.example.hiworld') {
      bundle.extension = { name: 'BackupExtensionAbility', module: 'ext.mjs' };
      writeFileSync(path.join(app, 'ext.mjs'), EXTENSION);
    }
    writeFileSync(path.join(app, 'bundle.json'), JSON.stringify(bundle));
    writeFileSync(path.join(app, 'backup_config.json'), JSON.stringify({ allowToBackupRestore: true }));
    writeFileSync(path.join(app, 'sandbox', 'data', 'storage', 'el2', 'base', 'files', 'hello.txt'), 'hello');
  }
  return root;
}

// The cloudSync examples run as the app com.ohos.demo (the bundle seed 003 names) on a device
// whose cloud holds what a peer uploaded: the app's cloud/1.txt and the gallery's Photo/1, both
// cloud-only on the example device; for the cleanCache examples the copy downloads 1.txt first.
const CLOUD_BUNDLE = 'com.ohos.demo';
const DOWNLOADED = new Set(['seed002-CloudFileCache-cleanCache', 'seed003-CloudFileCache-cleanCache']);
let cloudDevices = null;
function cloudDevice(name) {
  if (!cloudDevices) {
    const work = mkdtempSync(path.join(os.tmpdir(), 'ohfile-examples-cloud-'));
    process.on('exit', () => rmSync(work, { recursive: true, force: true }));
    const r = spawnSync(process.execPath, ['--import', 'ohfile/register', path.join(here, 'cloudsync', 'prepare-devices.mjs'), work], { cwd: repo, encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) throw new Error(`preparing the cloudSync devices failed:\n${r.stdout}${r.stderr}`);
    cloudDevices = JSON.parse(r.stdout.trim().split('\n').pop());
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'ohfile-examples-'));
  cpSync(cloudDevices.cloudOnly, root, { recursive: true });
  if (DOWNLOADED.has(name)) {
    const r = spawnSync(process.execPath, ['--import', 'ohfile/register', path.join(here, 'cloudsync', 'prepare-devices.mjs'), '--download', root], { cwd: repo, encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`downloading 1.txt for ${name} failed:\n${r.stdout}${r.stderr}`);
  }
  return root;
}

// What each example must print (and must not). An example not listed must exit 0, print a
// "success" line and no "failed" line.
const BACKUP_DONE = { must: [/appendBundles success/, /onBundleBegin success/, /onFileReady success/, /onBundleEnd success/, /onAllBundlesEnd success$/m], mustNot: [/failed/] };
// A restore example appends and never publishes: the bundle's timer (shortened for the run) ends it.
const RESTORE_APPENDED = { must: [/appendBundles success/, /onBundleBegin success/, /"code":13500003/, /onAllBundlesEnd success/], mustNot: [/appendBundles failed/] };
// getFileHandle on a bundle that no restore in this session appended: 13900020, as on OpenHarmony.
const HANDLE_WITHOUT_APPEND = { must: [/getFileHandle failed with err: \{"code":13900020/], mustNot: [] };
const SILENT = { must: [], mustNot: [/failed/] };
const EXPECT = {
  'seed000-SessionBackup-constructor': SILENT,
  'seed001-SessionBackup-constructor': SILENT,
  'seed000-SessionRestore-constructor': SILENT,
  'seed001-SessionRestore-constructor': SILENT,
  'seed000-SessionRestore-publishFile-callback': SILENT,
  'seed000-SessionRestore-publishFile-promise': SILENT,
  'seed001-SessionRestore-publishFile-callback': SILENT,
  'seed001-SessionRestore-publishFile-promise': SILENT,
  'seed000-SessionBackup-appendBundles-callback': BACKUP_DONE,
  'seed000-SessionBackup-appendBundles-promise': BACKUP_DONE,
  'seed001-SessionBackup-appendBundles-callback': { ...BACKUP_DONE, must: [...BACKUP_DONE.must, /onResultReport success, bundleName: com.example.hiworldresult: .*CountInfo/, /onProcess success, bundleName: com.example.hiworldprocess: \{\s*"processResult"/] },
  // Its second call passes one infos string for two bundles: rejected with 13900020 (see README).
  'seed001-SessionBackup-appendBundles-promise': { must: [...BACKUP_DONE.must, /appendBundles failed with err: \{"code":13900020/], mustNot: [/onBundle\w+ failed/] },
  'seed000-SessionRestore-appendBundles-callback': RESTORE_APPENDED,
  'seed000-SessionRestore-appendBundles-promise': RESTORE_APPENDED,
  'seed001-SessionRestore-appendBundles-callback': RESTORE_APPENDED,
  'seed001-SessionRestore-appendBundles-promise': RESTORE_APPENDED,
  'seed000-SessionRestore-getFileHandle-callback': HANDLE_WITHOUT_APPEND,
  'seed000-SessionRestore-getFileHandle-promise': HANDLE_WITHOUT_APPEND,
  'seed001-SessionRestore-getFileHandle-callback': HANDLE_WITHOUT_APPEND,
  'seed001-SessionRestore-getFileHandle-promise': HANDLE_WITHOUT_APPEND,
  'seed001-SessionBackup-release': { must: [/release success/], mustNot: [/failed/] },
  'seed001-IncrementalBackupSession-constructor': SILENT,
  'seed001-IncrementalBackupSession-release': { must: [/release success/], mustNot: [/failed/] },
  // Its manifestFd is 1 (stdout, a pipe here): not a manifest, so a coded error, never a silent full backup.
  'seed001-IncrementalBackupSession-appendBundles': { must: [/appendBundles failed with err: \{"code":13900020/], mustNot: [/onBundle/] },
  'seed001-SessionRestore-release': { must: [/release success/], mustNot: [/failed/] },
  'seed001-getBackupInfo': { must: [/getBackupInfo success, result: \{"app":"hiworld","backupDir":true\}/], mustNot: [/failed/] },
  // Outside a running bundle both return false, as documented ("call between onBundleBegin and onBundleEnd").
  'seed001-updateTimer': { must: [/updateTimer fail$/m], mustNot: [/failed/] },
  'seed001-updateSendRate': { must: [/updateSendRate fail$/m], mustNot: [/failed/] },
};
// cloudSync (seeds 002 and 003, the same examples in both unless noted). A start with a listener
// keeps the script alive until the run or download has ended, so its last event is printed.
const CLOUD_EXPECT = {
  'GallerySync-constructor': SILENT,
  // Registering replays the current state: the gallery synced when the device was made.
  'GallerySync-on': { must: [/^syncState: 4$/m], mustNot: [/failed/] },
  'GallerySync-off-callback': SILENT,
  'GallerySync-off-all': SILENT,
  // The replayed state, then this run's own events: DOWNLOADING (its pull) … COMPLETED.
  'GallerySync-start-promise': { must: [/start sync successfully/, /syncState: 2\n[^]*syncState: 4$/m], mustNot: [/failed/] },
  'GallerySync-start-callback': { must: [/start sync successfully/], mustNot: [/failed/] },
  'GallerySync-stop-promise': { must: [/stop sync successfully/], mustNot: [/failed/] },
  'GallerySync-stop-callback': { must: [/stop sync successfully/], mustNot: [/failed/] },
  'Download-constructor': SILENT,
  'Download-on': SILENT,
  'Download-off-callback': SILENT,
  'Download-off-all': SILENT,
  // file:///media/Photo/1 is the gallery's Photo/1, cloud-only on the example device.
  'Download-start-promise': { must: [/start download successfully/, /download state:1$/m], mustNot: [/failed/] },
  'Download-start-callback': { must: [/start download successfully/], mustNot: [/failed/] },
  'Download-stop-promise': { must: [/stop download successfully/], mustNot: [/failed/] },
  'Download-stop-callback': { must: [/stop download successfully/], mustNot: [/failed/] },
  'FileSync-constructor': SILENT,
  'FileSync-constructor-bundleName': SILENT,
  'FileSync-on': { must: [/^file sync state: 4error type:0$/m], mustNot: [/failed/] },
  'FileSync-off': SILENT,
  'FileSync-start-promise': { must: [/start sync successfully/, /file sync state: 2error type:0\n[^]*file sync state: 4error type:0$/m], mustNot: [/failed/] },
  'FileSync-start-callback': { must: [/start sync successfully/], mustNot: [/failed/] },
  'FileSync-stop-promise': { must: [/stop sync successfully/], mustNot: [/failed/] },
  'FileSync-stop-callback': { must: [/stop sync successfully/], mustNot: [/failed/] },
  // The example device synced when it was made: a real time, not the epoch.
  'FileSync-getLastSyncTime-promise': { must: [/get last sync time successfully:.* 20\d\d /], mustNot: [/failed/, / 1970 /] },
  'FileSync-getLastSyncTime-callback': { must: [/get last sync time successfully:.* 20\d\d /], mustNot: [/error message/, / 1970 /] },
  'CloudFileCache-constructor': SILENT,
  'CloudFileCache-on': SILENT,
  'CloudFileCache-off': SILENT,
  'CloudFileCache-start-promise': { must: [/start download successfully/, /download state:1$/m], mustNot: [/failed/] },
  'CloudFileCache-start-callback': { must: [/start download successfully/], mustNot: [/failed/] },
  'CloudFileCache-stop-promise': { must: [/stop download successfully/], mustNot: [/failed/] },
  'CloudFileCache-stop-callback': { must: [/stop download successfully/], mustNot: [/failed/] },
  'CloudFileCache-cleanCache': SILENT,
  // "file://uri" names no file of a synced folder: 14000002, as documented.
  'getFileSyncState-promise': { must: [/get file sync state failed with error message: Invalid uri.*, error code: 14000002/], mustNot: [/successfully/] },
  'getFileSyncState-callback': { must: [/get file sync state with error message: Invalid uri.*, error code: 14000002/], mustNot: [/successfully/] },
  'getFileSyncState-sync': SILENT,
};
for (const [name, expect] of Object.entries(CLOUD_EXPECT)) {
  for (const seed of ['seed002', 'seed003']) EXPECT[`${seed}-${name}`] = expect;
}
// The asset examples (seed 004, and a clone) run as the app com.example.myapplication. Their devices
// share a trust group (the key that seals a clone's asset package) in a temp folder, never the
// user's own; the clone example gets a second sample device as its target, $OHFILE_CLONE_TARGET.
const ASSET_BUNDLE = 'com.example.myapplication';
Object.assign(EXPECT, {
  'seed004-add-with-sync': { must: [/^Asset added with sync successfully\.$/m], mustNot: [/Failed/] },
  'seed004-querySyncResult': { must: [/^sync result: \{"resultCode":0,"totalCount":0,"failedCount":0\}$/m], mustNot: [/Failed/] },
  'clone-trusted-device-assets': {
    must: [/new device: wifi_password = demo_pwd$/m, /new device: api_token = demo_token$/m, /new device: device_key not found \(24000002\)$/m, /new device: sync result: \{"resultCode":0,"totalCount":2,"failedCount":0\}$/m],
    mustNot: [/clone failed/],
  },
});
function assetSetup(name, root) {
  const trust = mkdtempSync(path.join(os.tmpdir(), 'ohfile-examples-trust-'));
  const join = (r) => {
    const file = path.join(r, 'device.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), trustGroup: trust }));
  };
  join(root);
  const env = { OHFILE_BUNDLE: ASSET_BUNDLE };
  const dirs = [trust];
  if (name === 'clone-trusted-device-assets') {
    env.OHFILE_CLONE_TARGET = sampleDevice();
    join(env.OHFILE_CLONE_TARGET);
    dirs.push(env.OHFILE_CLONE_TARGET);
  }
  return { env, dirs };
}
const DEFAULT = { must: [/success/], mustNot: [/failed/] };

function listJs(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? listJs(p) : f.endsWith('.js') ? [p] : [];
  });
}

let passed = 0;
let failed = 0;
for (const file of listJs(path.join(here, 'build')).sort()) {
  // A fresh device per example: sessions an example leaves open must not meet the next one.
  const name = path.basename(file, '.js');
  const cloud = path.basename(path.dirname(file)) === 'cloudsync';
  const root = cloud ? cloudDevice(name) : sampleDevice();
  const extra = path.basename(path.dirname(file)) === 'asset' ? assetSetup(name, root) : { env: {}, dirs: [] };
  const r = spawnSync(process.execPath, ['--import', 'ohfile/register', file], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, OHFILE_ROOT: root, OHFILE_BUNDLE_TIMEOUT_MS: '2000', ...(cloud ? { OHFILE_BUNDLE: CLOUD_BUNDLE } : {}), ...extra.env },
  });
  rmSync(root, { recursive: true, force: true });
  for (const dir of extra.dirs) rmSync(dir, { recursive: true, force: true });
  const out = `${r.stdout}${r.stderr}`;
  const expect = EXPECT[name] || DEFAULT;
  const problems = [
    r.status !== 0 ? `exit status ${r.status}${r.signal ? ` (${r.signal})` : ''}` : null,
    ...expect.must.filter((re) => !re.test(out)).map((re) => `missing ${re}`),
    ...expect.mustNot.filter((re) => re.test(out)).map((re) => `unexpected ${re}`),
  ].filter(Boolean);
  console.log(`${problems.length ? 'FAIL' : 'ok  '} ${path.relative(here, file)}`);
  if (problems.length) console.log(`     ${problems.join('; ')}\n${out.replace(/^/gm, '     | ')}`);
  problems.length ? failed++ : passed++;
}
console.log(`examples: ${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
