'use strict';
// `import backup from '@ohos.file.backup'`
module.exports = require('../backup');
