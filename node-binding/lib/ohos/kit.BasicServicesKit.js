'use strict';
// `import { BusinessError } from '@kit.BasicServicesKit'`: types only at run time.
module.exports = {};
