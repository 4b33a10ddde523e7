'use strict';
// `import util from '@ohos.util'`
module.exports = require('../arkts').util;
