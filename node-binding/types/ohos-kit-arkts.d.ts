// `@ohos.util` and `@kit.ArkTS`: the part of ArkTS's util that ohfile provides.

declare module '@ohos.util' {
  namespace util {
    /** What encodeIntoUint8Array (and the two-argument encodeInto) reports. */
    interface EncodeIntoUint8ArrayInfo {
      read: number;
      written: number;
    }
    /** Options of TextDecoder.create. */
    interface TextDecoderOptions {
      fatal?: boolean;
      ignoreBOM?: boolean;
    }
    /** Options of decodeToString. */
    interface DecodeToStringOptions {
      stream?: boolean;
    }
    /** Options of decodeWithStream. */
    interface DecodeWithStreamOptions {
      stream?: boolean;
    }
    /** UTF-8 text to bytes. */
    class TextEncoder {
      readonly encoding: string;
      constructor(encoding?: string);
      static create(encoding?: string): TextEncoder;
      /** The bytes of `input`. */
      encode(input?: string): Uint8Array;
      /** The bytes of `input` (ArkTS's one-argument form). */
      encodeInto(input?: string): Uint8Array;
      /** Writes `input` into `dest`. */
      encodeIntoUint8Array(input: string, dest: Uint8Array): EncodeIntoUint8ArrayInfo;
    }
    /** Bytes to text. */
    class TextDecoder {
      readonly encoding: string;
      readonly fatal: boolean;
      readonly ignoreBOM: boolean;
      constructor(encoding?: string, options?: TextDecoderOptions);
      static create(encoding?: string, options?: TextDecoderOptions): TextDecoder;
      decodeToString(input: Uint8Array, options?: DecodeToStringOptions): string;
      decodeWithStream(input: Uint8Array, options?: DecodeWithStreamOptions): string;
    }
    /** printf-like formatting. */
    function format(format: string, ...args: Object[]): string;
    /** A Promise-returning form of an error-first callback function. */
    function promisify(original: (err: Object, value: Object) => void): Function;
    /** A random version-4 UUID. */
    function generateRandomUUID(entityCache?: boolean): string;
  }
  export default util;
}

declare module '@kit.ArkTS' {
  import util from '@ohos.util';
  export { util };
}
