// Seed 004 (Asset Store Kit, "Syncing Assets"): "Querying the Sync Result of Assets", unmodified.

// ---- example, verbatim ----
import { asset } from '@kit.AssetStoreKit';
import { BusinessError } from '@kit.BasicServicesKit';

let query: asset.AssetMap = new Map();
asset.querySyncResult(query).then((res: asset.SyncResult) => {
  console.info(`sync result: ${JSON.stringify(res)}`);
}).catch ((err: BusinessError) => {
  console.error(`Failed to query sync result of Asset. Code is ${err.code}, message is ${err.message}`);
});
