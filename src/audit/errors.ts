// Errors an audit ends with besides bad input (the engine's InputError).

export class AuditCancelledError extends Error {
  override readonly name = 'AuditCancelledError';
  constructor() {
    super('audit cancelled');
  }
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AuditCancelledError();
}

/** Resolves like `promise`, or rejects with AuditCancelledError as soon as `signal` aborts. */
export function unlessCancelled<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  throwIfCancelled(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AuditCancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
