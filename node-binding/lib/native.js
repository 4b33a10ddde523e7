'use strict';
// Loads the napi-rs addon. `npm run build` (or `npm test`) puts it in node-binding/native/.
const path = require('node:path');

const file = process.env.OHFILE_NATIVE || path.join(__dirname, '..', 'native', 'ohfile.node');
let native;
try {
  native = require(file);
} catch (e) {
  e.message = `ohfile: cannot load the native addon ${file} (run \`npm run build\`): ${e.message}`;
  throw e;
}
module.exports = native;
