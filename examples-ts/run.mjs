#!/usr/bin/env node
// Runs every compiled example (examples-ts/build, from `tsc -p examples-ts`) under
// `node --import ohfile/register` against a sample device, as an OpenHarmony app would run.
// An example passes when it exits 0, logs its "success" line and no "failed" line.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

function sampleDevice() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ohfile-examples-'));
  writeFileSync(path.join(root, 'device.json'), JSON.stringify({ deviceType: 'default', systemFullName: 'OpenHarmony-4.0.0.0' }));
  const app = path.join(root, 'apps', 'com.example.hiworld');
  mkdirSync(path.join(app, 'sandbox', 'data', 'storage', 'el2', 'base', 'files'), { recursive: true });
  writeFileSync(path.join(app, 'bundle.json'), JSON.stringify({ versionCode: 1000000, versionName: '1.0.0' }));
  writeFileSync(path.join(app, 'backup_config.json'), JSON.stringify({ allowToBackupRestore: true }));
  writeFileSync(path.join(app, 'sandbox', 'data', 'storage', 'el2', 'base', 'files', 'hello.txt'), 'hello');
  return root;
}

function listJs(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? listJs(p) : f.endsWith('.js') ? [p] : [];
  });
}

const root = sampleDevice();
let passed = 0;
let failed = 0;
for (const file of listJs(path.join(here, 'build')).sort()) {
  const r = spawnSync(process.execPath, ['--import', 'ohfile/register', file], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, OHFILE_ROOT: root },
  });
  const out = `${r.stdout}${r.stderr}`;
  const ok = r.status === 0 && /success/.test(out) && !/failed/.test(out);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${path.relative(here, file)}`);
  if (!ok) console.log(out.replace(/^/gm, '     '));
  ok ? passed++ : failed++;
}
rmSync(root, { recursive: true, force: true });
console.log(`examples: ${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
