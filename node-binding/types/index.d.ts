// The `ohfile` package: the OpenHarmony modules by name, for Node code that is not OpenHarmony
// code (OpenHarmony code imports the `@ohos.*` specifiers through `ohfile/register`).
/// <reference path="./ohos.d.ts" />
import backup from '@ohos.file.backup';
import fileIo from '@ohos.file.fs';

export { backup, fileIo };
/** The ohfile version. */
export declare const version: string;
