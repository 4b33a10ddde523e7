// Makes the device the cloudSync examples run on (run.mjs copies it for each example), through
// the public API only:
//   node --import ohfile/register examples-ts/cloudsync/prepare-devices.mjs <work dir>
// A peer device uploads the app's /data/storage/el2/cloud/1.txt and the gallery's Photo/1; the
// example device (<work>/cloud-only) syncs both down as cloud-only files. The examples' app is
// com.ohos.demo, the bundle seed 003's FileSync example names.
//   node --import ohfile/register examples-ts/cloudsync/prepare-devices.mjs --download <root>
// then downloads 1.txt on a copy, for the examples that act on a local copy (cleanCache). That
// happens on the copy itself: a local file is in step only with the inode it was written to.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import cloudSync from '@ohos.file.cloudSync';

const BUNDLE = 'com.ohos.demo';
const args = process.argv.slice(2);

function device(root, cloud) {
  const sandbox = path.join(root, 'apps', BUNDLE, 'sandbox', 'data', 'storage', 'el2');
  mkdirSync(path.join(sandbox, 'cloud'), { recursive: true });
  mkdirSync(path.join(sandbox, 'base', 'files'), { recursive: true });
  mkdirSync(path.join(root, 'media'), { recursive: true });
  writeFileSync(path.join(root, 'apps', BUNDLE, 'bundle.json'), JSON.stringify({ versionCode: 1000000, versionName: '1.0.0' }));
  writeFileSync(path.join(root, 'device.json'), JSON.stringify({ deviceType: 'default', ...(cloud ? { cloud } : {}) }));
  return sandbox;
}

/** Runs `make()`'s sync on the device at `root` to its end; rejects unless it COMPLETED. */
function syncOn(root, make) {
  process.env.OHFILE_ROOT = root;
  const s = make();
  return new Promise((resolve, reject) => {
    let started = false;
    s.on('progress', (p) => {
      if (!started) return; // a replay of an earlier state
      if (p.state === cloudSync.SyncState.COMPLETED) resolve();
      else if (p.state !== cloudSync.SyncState.UPLOADING && p.state !== cloudSync.SyncState.DOWNLOADING) reject(new Error(`sync ended with ${JSON.stringify(p)}`));
    });
    setTimeout(() => {
      started = true;
      s.start().catch(reject);
    }, 20);
  }).finally(() => s.off('progress'));
}

/** Downloads the app's 1.txt on the device at `root` with CloudFileCache, to its end. */
async function download(root) {
  process.env.OHFILE_ROOT = root;
  process.env.OHFILE_BUNDLE = BUNDLE;
  const cache = new cloudSync.CloudFileCache();
  await new Promise((resolve, reject) => {
    cache.on('progress', (p) => {
      if (p.state === cloudSync.State.COMPLETED) resolve();
      else if (p.state !== cloudSync.State.RUNNING) reject(new Error(`download ended with ${JSON.stringify(p)}`));
    });
    cache.start(`file://${BUNDLE}/data/storage/el2/cloud/1.txt`).catch(reject);
  });
  cache.off('progress');
}

if (args[0] === '--download') {
  await download(args[1]);
} else {
  const example = path.join(args[0], 'cloud-only');
  const peer = path.join(args[0], 'peer');
  device(example);
  device(peer, path.join(example, 'cloud'));
  writeFileSync(path.join(peer, 'apps', BUNDLE, 'sandbox/data/storage/el2/cloud/1.txt'), 'hello from the cloud\n'.repeat(50000));
  mkdirSync(path.join(peer, 'media', 'Photo'), { recursive: true });
  writeFileSync(path.join(peer, 'media', 'Photo', '1'), Buffer.alloc(3 << 20, 0x5a));
  await syncOn(peer, () => new cloudSync.FileSync(BUNDLE));
  await syncOn(peer, () => new cloudSync.GallerySync());
  await syncOn(example, () => new cloudSync.FileSync(BUNDLE));
  await syncOn(example, () => new cloudSync.GallerySync());
  console.log(JSON.stringify({ cloudOnly: example }));
}
