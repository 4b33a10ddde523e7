'use strict';
// `import asset from '@ohos.security.asset'`
module.exports = require('../asset');
