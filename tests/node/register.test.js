'use strict';
// The package entry points and the register hooks, each in a fresh child process.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const repo = path.resolve(__dirname, '..', '..');

function runNode(args, source, ext) {
  // Inside the repo, so that `ohfile` resolves by package self-reference.
  const dir = fs.mkdtempSync(path.join(repo, 'tests', 'node', '.tmp-'));
  const file = path.join(dir, `app.${ext}`);
  fs.writeFileSync(file, source);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [...args, file], { cwd: repo, encoding: 'utf8', timeout: 20000 });
  fs.rmSync(dir, { recursive: true, force: true });
  return { ...r, ms: Date.now() - t0 };
}

const ESM_APP = `
import backup from '@ohos.file.backup';
import fs from '@ohos.file.fs';
import * as base from '@ohos.base';
import * as basic from '@kit.BasicServicesKit';
import { backup as kitBackup, fileIo } from '@kit.CoreFileKit';
import { backup as pkgBackup } from 'ohfile';
console.log(JSON.stringify({
  backup: typeof backup.getLocalCapabilities,
  fs: [typeof fs.closeSync, typeof fs.readSync, typeof fs.fstatSync],
  kit: kitBackup === backup && fileIo === fs,
  pkg: pkgBackup === backup,
  base: typeof base, basic: typeof basic,
}));
`;

const CJS_APP = `
const backup = require('@ohos.file.backup');
const fs = require('@ohos.file.fs');
require('@ohos.base');
require('@kit.BasicServicesKit');
const kit = require('@kit.CoreFileKit');
const pkg = require('ohfile');
console.log(JSON.stringify({
  backup: typeof backup.getLocalCapabilities,
  fs: [typeof fs.closeSync, typeof fs.readSync, typeof fs.fstatSync],
  kit: kit.backup === backup && kit.fileIo === fs,
  pkg: pkg.backup === backup,
  base: 'object', basic: 'object',
}));
`;

const EXPECTED = { backup: 'function', fs: ['function', 'function', 'function'], kit: true, pkg: true, base: 'object', basic: 'object' };

test('node --import ohfile/register resolves the OpenHarmony specifiers for ESM', () => {
  const r = runNode(['--import', 'ohfile/register'], ESM_APP, 'mjs');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), EXPECTED);
});

test('node -r ohfile/register resolves them for CommonJS', () => {
  const r = runNode(['-r', 'ohfile/register'], CJS_APP, 'cjs');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), EXPECTED);
});

test('without the hook the specifiers do not resolve (the hook is what makes them work)', () => {
  const r = runNode([], "require('@ohos.file.backup')", 'cjs');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Cannot find module '@ohos.file.backup'/);
});

test('a script that only loads the module exits at once', () => {
  const r = runNode([], "require('ohfile'); require('ohfile/register'); require('@ohos.file.backup');", 'cjs');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.ms < 5000, `took ${r.ms} ms`);
});

test('a script whose getLocalCapabilities settled exits by itself', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ohfile-exit-'));
  const src = `process.env.OHFILE_ROOT = ${JSON.stringify(root)};
    const { backup, fileIo } = require('ohfile');
    backup.getLocalCapabilities().then((d) => { fileIo.closeSync(d.fd); console.log('done'); });`;
  const r = runNode([], src, 'cjs');
  fs.rmSync(root, { recursive: true, force: true });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'done');
  assert.ok(r.ms < 5000, `took ${r.ms} ms`);
});
