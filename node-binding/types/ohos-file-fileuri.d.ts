// The part of `@ohos.file.fileuri` that ohfile provides.

declare module '@ohos.file.fileuri' {
  namespace fileUri {
    /** A `file://` uri taken apart. */
    class FileUri {
      constructor(uriOrPath: string);
      /** The path the uri names (percent-decoded). */
      readonly path: string;
      /** The last segment of the path. */
      readonly name: string;
      toString(): string;
    }
    /** The uri of a sandbox path of the calling app ($OHFILE_BUNDLE): `file://<bundle><path>`. */
    function getUriFromPath(path: string): string;
  }
  export default fileUri;
}
