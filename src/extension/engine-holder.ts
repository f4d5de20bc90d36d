// One Engine (one inference worker) for the extension's life, so sessions stay warm across audits.
// After an unexpected failure the worker may be gone: it is replaced once no audit uses it.
import { Engine } from '../engine/runtime/engine';
import type { Log } from './log';

export class EngineHolder {
  private engine: Engine | undefined;
  private suspect = false;
  private disposed = false;

  constructor(private readonly log: Log) {}

  get(): Engine {
    if (this.disposed) throw new Error('the extension is shutting down');
    this.engine ??= new Engine();
    return this.engine;
  }

  /** A failure that was not about the files: the worker may be broken. */
  markSuspect(): void {
    this.suspect = true;
  }

  replaceIfSuspect(busy: boolean): void {
    if (!this.suspect || busy) return;
    const old = this.engine;
    this.engine = undefined;
    this.suspect = false;
    if (old) {
      this.log.info('restarting the inference worker after a failure');
      void old.terminate().catch(() => {});
    }
  }

  dispose(): void {
    this.disposed = true;
    const engine = this.engine;
    this.engine = undefined;
    void engine?.terminate().catch(() => {});
  }
}
