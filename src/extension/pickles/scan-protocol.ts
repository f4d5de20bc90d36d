// Messages between the extension host and the pickle-scan worker (both sides in this process's
// Node: the worker is a worker_threads thread, so that scanning never blocks the extension host).

export interface ScanRequest {
  readonly id: number;
  readonly path: string;
}

export type ScanReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly forbidden: readonly string[];
      readonly legacy: boolean;
    }
  | { readonly id: number; readonly ok: false; readonly message: string };
