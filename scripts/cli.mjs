#!/usr/bin/env node
// The `ohfile` command.
//   ohfile capabilities [--root DIR]   print the device's capability JSON
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const USAGE = 'usage: ohfile capabilities [--root DIR]';

function option(args, name) {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v) fail(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

function fail(msg) {
  console.error(`ohfile: ${msg}\n${USAGE}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const cmd = args.shift();
const root = option(args, '--root');
if (root) process.env.OHFILE_ROOT = root;
const { backup, fileIo } = require('../node-binding/lib/index.js');

if (cmd === 'capabilities') {
  try {
    const { fd } = await backup.getLocalCapabilities();
    const chunks = [];
    for (let offset = 0; ; ) {
      const buf = new ArrayBuffer(65536);
      const n = fileIo.readSync(fd, buf, { offset });
      if (!n) break;
      chunks.push(Buffer.from(buf, 0, n));
      offset += n;
    }
    fileIo.closeSync(fd);
    process.stdout.write(Buffer.concat(chunks).toString() + '\n');
  } catch (e) {
    console.error(`ohfile: ${e.message} (${e.code})`);
    process.exit(1);
  }
} else {
  fail(cmd ? `unknown command ${cmd}` : 'no command');
}
