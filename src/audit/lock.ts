// One audit at a time per engine: the adapters stacked on a shared warm session are global to it,
// so two audits interleaving would generate with each other's diffs.
import { unlessCancelled } from './errors';

const queues = new WeakMap<object, Promise<void>>();

export async function exclusive<T>(
  key: object,
  signal: AbortSignal | undefined,
  run: () => Promise<T>,
): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  let release = () => {};
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  queues.set(
    key,
    previous.then(() => mine),
  );
  try {
    await unlessCancelled(previous, signal);
    return await run();
  } finally {
    release();
  }
}
