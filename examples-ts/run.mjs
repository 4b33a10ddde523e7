#!/usr/bin/env node
// Runs every compiled example (examples-ts/build, from `tsc -p examples-ts`) under
// `node --import ohfile/register` against a sample device, as an OpenHarmony app would run, and
// checks what it printed against what the documented behaviour makes it print.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  const root = sampleDevice();
  const r = spawnSync(process.execPath, ['--import', 'ohfile/register', file], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, OHFILE_ROOT: root, OHFILE_BUNDLE_TIMEOUT_MS: '2000' },
  });
  rmSync(root, { recursive: true, force: true });
  const out = `${r.stdout}${r.stderr}`;
  const expect = EXPECT[path.basename(file, '.js')] || DEFAULT;
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
