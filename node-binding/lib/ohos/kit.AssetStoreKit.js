'use strict';
// `import { asset } from '@kit.AssetStoreKit'`
exports.asset = require('../asset');
