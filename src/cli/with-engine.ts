// Every command that runs models: one engine for the command, Ctrl-C turned into an abort
// signal, and the worker ended however the command ends.
import { Engine } from '../engine/runtime/engine';

export async function withEngine<T>(run: (engine: Engine, signal: AbortSignal) => Promise<T>): Promise<T> {
  const engine = new Engine();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    return await run(engine, abort.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await engine.terminate();
  }
}
