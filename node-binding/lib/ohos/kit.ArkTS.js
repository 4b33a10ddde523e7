'use strict';
// `import { util } from '@kit.ArkTS'`
exports.util = require('../arkts').util;
