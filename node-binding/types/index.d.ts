// The `ohfile` package: the OpenHarmony modules by name, for Node code that is not OpenHarmony
// code (OpenHarmony code imports the `@ohos.*` specifiers through `ohfile/register`).
/// <reference path="./ohos.d.ts" />
import backup from '@ohos.file.backup';
import fileIo from '@ohos.file.fs';
import cloudSync from '@ohos.file.cloudSync';
import asset from '@ohos.security.asset';

export { backup, fileIo, cloudSync, asset };
/** ohfile's software stand-in for OpenHarmony's user authentication (@ohos.userIAM.userAuth). */
export declare const assetUserAuth: {
  /** The AUTH_TOKEN for a challenge of one of the calling app's open preQuery sessions. */
  authenticate(challenge: Uint8Array): Promise<Uint8Array>;
};
/** The ohfile version. */
export declare const version: string;
