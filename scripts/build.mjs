#!/usr/bin/env node
// Builds the C library (libohfile.so/.a, header) and the Node addon, and installs the addon where
// the package loads it (node-binding/native/ohfile.node).
//   node scripts/build.mjs [--release] [--write-header]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const release = process.argv.includes('--release');
const env = { ...process.env };
if (process.argv.includes('--write-header')) env.OHFILE_WRITE_HEADER = '1';

const args = ['build', '-p', 'ohfile-ffi', '-p', 'ohfile-node'];
if (release) args.push('--release');
const r = spawnSync('cargo', args, { cwd: root, stdio: 'inherit', env });
if (r.status !== 0) process.exit(r.status ?? 1);

const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target');
const profileDir = path.join(targetDir, release ? 'release' : 'debug');
const nativeDir = path.join(root, 'node-binding', 'native');
mkdirSync(nativeDir, { recursive: true });
// Copy then rename: a running process that has the old addon mapped keeps a valid file.
const tmp = path.join(nativeDir, `.ohfile.node.${process.pid}`);
copyFileSync(path.join(profileDir, 'libohfile_node.so'), tmp);
renameSync(tmp, path.join(nativeDir, 'ohfile.node'));
console.log(`ohfile: built ${release ? 'release' : 'debug'} libraries in ${profileDir}; addon installed in node-binding/native/`);
