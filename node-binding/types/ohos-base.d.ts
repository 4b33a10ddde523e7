// Types of `@ohos.base` and `@kit.BasicServicesKit`, as OpenHarmony declares them.

declare module '@ohos.base' {
  /** A callback that receives a value. */
  export interface Callback<T> {
    (data: T): void;
  }
  /** A callback that receives an error. */
  export interface ErrorCallback<T extends Error = BusinessError> {
    (err: T): void;
  }
  /** An error-first callback: `err` is undefined on success. */
  export interface AsyncCallback<T, E = void> {
    (err: BusinessError<E>, data: T): void;
  }
  /** The error every OpenHarmony API reports: a numeric `code` and, for some, `data`. */
  export interface BusinessError<T = void> extends Error {
    code: number;
    data?: T;
  }
}

declare module '@kit.BasicServicesKit' {
  export { AsyncCallback, BusinessError, Callback, ErrorCallback } from '@ohos.base';
}
