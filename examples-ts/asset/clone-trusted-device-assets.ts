// Assets travel with a device clone. On the old device ($OHFILE_ROOT) the app
// com.example.myapplication stores two secrets that may sync between trusted devices and one that
// never leaves the device; a clone tool backs the app up with @ohos.file.backup and restores it on
// the new device ($OHFILE_CLONE_TARGET); there the app finds its synced secrets and asks
// asset.querySyncResult how the sync went. The app's own calls are the documented ones; only the
// clone tool switches devices (ohfile's $OHFILE_ROOT).
import { asset } from '@kit.AssetStoreKit';
import { util } from '@kit.ArkTS';
import { BusinessError } from '@kit.BasicServicesKit';
import backup from '@ohos.file.backup';
import fs from '@ohos.file.fs';

declare const process: { env: Record<string, string | undefined>; exitCode?: number };

const BUNDLE = 'com.example.myapplication';
const oldDevice = process.env.OHFILE_ROOT as string;
const newDevice = process.env.OHFILE_CLONE_TARGET as string;

const encoder = new util.TextEncoder();
const decoder = util.TextDecoder.create('utf-8');

function stringToArray(str: string): Uint8Array {
  return encoder.encodeInto(str);
}

function arrayToString(value: asset.Value | undefined): string {
  return value instanceof Uint8Array ? decoder.decodeToString(value) : String(value);
}

// ---- the app, on the old device ----
async function addAssets(): Promise<void> {
  const assets: Array<[string, string, number]> = [
    ['wifi_password', 'demo_pwd', asset.SyncType.TRUSTED_DEVICE],
    ['api_token', 'demo_token', asset.SyncType.TRUSTED_DEVICE],
    ['device_key', 'demo_local_key', asset.SyncType.NEVER],
  ];
  for (const [alias, secret, syncType] of assets) {
    let attr: asset.AssetMap = new Map();
    attr.set(asset.Tag.SECRET, stringToArray(secret));
    attr.set(asset.Tag.ALIAS, stringToArray(alias));
    attr.set(asset.Tag.SYNC_TYPE, syncType);
    await asset.add(attr);
    console.info(`old device: added ${alias} (SYNC_TYPE ${syncType})`);
  }
}

// ---- the clone tool ----
/** Backs the app up: every file the service hands over, kept in memory by its uri. */
function backupApp(): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  return new Promise((resolve, reject) => {
    const session = new backup.SessionBackup({
      onFileReady: (err: BusinessError, file: backup.File) => {
        if (err) {
          reject(err);
          return;
        }
        const size = fs.statSync(file.fd).size;
        const buffer = new ArrayBuffer(size);
        let offset = 0;
        while (offset < size) {
          const chunk = new ArrayBuffer(size - offset);
          const n = fs.readSync(file.fd, chunk, { offset });
          if (n === 0) break;
          new Uint8Array(buffer).set(new Uint8Array(chunk, 0, n), offset);
          offset += n;
        }
        files.set(file.uri, new Uint8Array(buffer, 0, offset));
        fs.closeSync(file.fd);
        if (file.manifestFd >= 0) fs.closeSync(file.manifestFd);
      },
      onBundleBegin: (err: BusinessError<string | void>) => {
        if (err) reject(err);
      },
      onBundleEnd: (err: BusinessError<string | void>) => {
        if (err) reject(err);
      },
      onAllBundlesEnd: (err: BusinessError) => {
        session.release().then(() => (err ? reject(err) : resolve(files)), reject);
      },
      onBackupServiceDied: () => reject(new Error('the backup service died')),
    });
    session.appendBundles([BUNDLE]).catch(reject);
  });
}

/** Restores the app from the files of backupApp, described by the old device's capabilities. */
function restoreApp(files: Map<string, Uint8Array>, capabilitiesFd: number): Promise<void> {
  let left = files.size;
  return new Promise((resolve, reject) => {
    const session = new backup.SessionRestore({
      onBundleBegin: (err: BusinessError<string | void>) => {
        if (err) {
          reject(err);
          return;
        }
        for (const uri of files.keys()) session.getFileHandle({ bundleName: BUNDLE, uri }).catch(reject);
      },
      onFileReady: (err: BusinessError, file: backup.File) => {
        if (err) {
          reject(err);
          return;
        }
        const data = files.get(file.uri) as Uint8Array;
        const copy = new ArrayBuffer(data.length);
        new Uint8Array(copy).set(data);
        fs.writeSync(file.fd, copy);
        fs.closeSync(file.fd);
        if (file.manifestFd >= 0) fs.closeSync(file.manifestFd);
        left -= 1;
        if (left === 0) session.publishFile({ bundleName: BUNDLE, uri: '' }).catch(reject);
      },
      onBundleEnd: (err: BusinessError<string | void>) => {
        if (err) reject(err);
      },
      onAllBundlesEnd: (err: BusinessError) => {
        session.release().then(() => (err ? reject(err) : resolve()), reject);
      },
      onBackupServiceDied: () => reject(new Error('the backup service died')),
    });
    session.appendBundles(capabilitiesFd, [BUNDLE]).catch(reject);
  });
}

// ---- the app, on the new device ----
async function showAssets(): Promise<void> {
  for (const alias of ['wifi_password', 'api_token', 'device_key']) {
    let query: asset.AssetMap = new Map();
    query.set(asset.Tag.ALIAS, stringToArray(alias));
    query.set(asset.Tag.RETURN_TYPE, asset.ReturnType.ALL);
    try {
      const res: Array<asset.AssetMap> = await asset.query(query);
      console.info(`new device: ${alias} = ${arrayToString(res[0].get(asset.Tag.SECRET))}`);
    } catch (error) {
      const err = error as BusinessError;
      console.info(`new device: ${alias} not found (${err.code})`);
    }
  }
  const res: asset.SyncResult = await asset.querySyncResult(new Map());
  console.info(`new device: sync result: ${JSON.stringify(res)}`);
}

async function main(): Promise<void> {
  await addAssets();
  const files = await backupApp();
  const { fd: capabilitiesFd } = await backup.getLocalCapabilities();
  console.info(`clone: backed up ${BUNDLE} (${files.size} files)`);
  process.env.OHFILE_ROOT = newDevice;
  try {
    await restoreApp(files, capabilitiesFd);
  } finally {
    fs.closeSync(capabilitiesFd);
  }
  console.info(`clone: restored ${BUNDLE} from ${oldDevice} to ${newDevice}`);
  await showAssets();
}

main().catch((error) => {
  const err = error as BusinessError;
  console.error(`clone failed: ${err.code} ${err.message}`);
  process.exitCode = 1;
});
