// The part of `@ohos.file.fs` that ohfile provides (fd-level helpers over Node's fs).

declare module '@ohos.file.fs' {
  namespace fileIo {
    /** Flags for openSync. */
    namespace OpenMode {
      const READ_ONLY: number;
      const WRITE_ONLY: number;
      const READ_WRITE: number;
      const CREATE: number;
      const TRUNC: number;
      const APPEND: number;
      const NONBLOCK: number;
      const DIR: number;
      const NOFOLLOW: number;
      const SYNC: number;
    }
    /** An open file. */
    interface File {
      readonly fd: number;
      readonly path: string;
      readonly name: string;
    }
    /** File attributes; times in seconds. */
    interface Stat {
      readonly ino: number;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
      readonly size: number;
      readonly atime: number;
      readonly mtime: number;
      readonly ctime: number;
      isFile(): boolean;
      isDirectory(): boolean;
      isSymbolicLink(): boolean;
      isFIFO(): boolean;
      isSocket(): boolean;
      isBlockDevice(): boolean;
      isCharacterDevice(): boolean;
    }
    /** Read options: `offset` is the position in the file (default: the current one). */
    interface ReadOptions {
      offset?: number;
      length?: number;
    }
    /** Write options. */
    interface WriteOptions {
      offset?: number;
      length?: number;
      encoding?: string;
    }
    function openSync(path: string, mode?: number): File;
    function closeSync(file: number | File): void;
    function readSync(fd: number, buffer: ArrayBuffer, options?: ReadOptions): number;
    function writeSync(fd: number, buffer: ArrayBuffer | string, options?: WriteOptions): number;
    function statSync(file: string | number): Stat;
    function fstatSync(fd: number): Stat;
    function accessSync(path: string): boolean;
    function readTextSync(filePath: string, options?: { encoding?: string }): string;
  }
  export default fileIo;
}
