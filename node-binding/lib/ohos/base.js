'use strict';
// `@ohos.base` declares only types (BusinessError, AsyncCallback, Callback); at run time it is empty.
module.exports = {};
