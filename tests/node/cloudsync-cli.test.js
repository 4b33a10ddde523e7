'use strict';
// `ohfile sync ROOT [bundle]`: one sync run from the command line, its exit status and messages.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { BUNDLE, cloudDevices, setConditions, cloudFolder, writeFiles } = require('./cloudsync-helpers');

const CLI = path.join(__dirname, '..', '..', 'scripts', 'cli.mjs');

function ohfile(...args) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
}

test('ohfile sync uploads on one device and the other sees the file as cloud-only', (t) => {
  const { roots: [a, b], cleanup } = cloudDevices(2);
  t.after(cleanup);
  writeFiles(a, { 'docs/a.txt': 'from a' });
  const up = ohfile('sync', a, BUNDLE, '--quiet');
  assert.strictEqual(up.status, 0, up.stderr);
  assert.match(up.stdout, new RegExp(`sync ${BUNDLE.replace(/\./g, '\\.')}: COMPLETED`));
  const down = ohfile('sync', b, BUNDLE, '--quiet');
  assert.strictEqual(down.status, 0, down.stderr);
  // Pulled as a cloud-only entry: no local file on b.
  assert.strictEqual(fs.existsSync(path.join(cloudFolder(b), 'docs/a.txt')), false);
  // The gallery, without a bundle.
  fs.writeFileSync(path.join(a, 'media', 'p.jpg'), 'jpeg');
  const gallery = ohfile('sync', a, '--quiet');
  assert.strictEqual(gallery.status, 0, gallery.stderr);
  assert.match(gallery.stdout, /sync gallery: COMPLETED/);
});

test('ohfile sync fails with the code when start is refused or the bundle is unknown', (t) => {
  const { roots: [a], cleanup } = cloudDevices(1);
  t.after(cleanup);
  setConditions(a, { network: 'none' });
  const r = ohfile('sync', a, BUNDLE, '--quiet');
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stderr, /\(22400002\)/);
  setConditions(a, { network: 'wifi' });
  const unknown = ohfile('sync', a, 'com.example.nothere', '--quiet');
  assert.notStrictEqual(unknown.status, 0);
  assert.match(unknown.stderr, /\(401\)/);
  const usage = ohfile('sync');
  assert.notStrictEqual(usage.status, 0);
});
