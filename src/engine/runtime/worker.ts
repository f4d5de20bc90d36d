// The inference worker: owns every onnxruntime session, so inference never blocks the caller's
// event loop. ORT's run is synchronous inside the binding; cancellation happens between runs
// (or by terminating this worker).
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { analyseDiffOfFiles } from '../analysis/analyse-diff';
import { loadAdapter } from '../checkpoint/load-adapter';
import { InputError } from '../checkpoint/types';
import { ModelHost } from './model-host';
import type { Envelope, Reply, Request } from './protocol';

const models = new Map<number, ModelHost>();
/** One warm session per base checkpoint and settings: opening it again shares it. */
const byKey = new Map<string, { id: number; users: number }>();
let nextModel = 1;

function keyOf(request: Extract<Request, { type: 'open' }>): string {
  const o = request.options;
  const dir = resolve(request.dir);
  return JSON.stringify([
    dir,
    filesOf(dir),
    o.provider,
    o.maxPositions,
    o.threads ?? 0,
    o.precision ?? 'auto',
    o.attention ?? 'auto',
    o.maxScoreBytes ?? 0,
  ]);
}

/** The files a session is built from, by size and time: a model remade in place is a new model. */
function filesOf(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n === 'config.json' || n.endsWith('.safetensors'));
  } catch {
    return []; // ModelHost.open reports the missing folder
  }
  return names.sort().map((n) => {
    const st = statSync(join(dir, n));
    return `${n}:${st.size}:${st.mtimeMs}`;
  });
}

function host(id: number): ModelHost {
  const m = models.get(id);
  if (!m) throw new Error(`no open model ${id}`);
  return m;
}

async function handle(request: Request): Promise<{ result: unknown; transfer?: ArrayBuffer[] }> {
  switch (request.type) {
    case 'open': {
      const key = keyOf(request);
      const shared = byKey.get(key);
      if (shared) {
        shared.users++;
        return { result: { model: shared.id, info: host(shared.id).info } };
      }
      const m = await ModelHost.open(request.dir, request.options);
      const id = nextModel++;
      models.set(id, m);
      byKey.set(key, { id, users: 1 });
      return { result: { model: id, info: m.info } };
    }
    case 'setAdapters': {
      const t0 = performance.now();
      const adapters = await host(request.model).setAdapters(request.refs);
      const summaries = adapters.map((a) => ({
        source: a.source,
        factors: a.factors.length,
        maxRank: a.factors.reduce((r, f) => Math.max(r, f.rank), 0),
        metadata: a.metadata ? { ...a.metadata } : undefined,
      }));
      return { result: { adapters: summaries, ms: performance.now() - t0 } };
    }
    case 'newSequence':
      return { result: { sequence: host(request.model).newSequence(request.capacity) } };
    case 'dropSequence':
      host(request.model).dropSequence(request.sequence);
      return { result: null };
    case 'append': {
      const logits = await host(request.model).append(request.sequence, request.tokens, request.allRows);
      return { result: { logits }, transfer: [logits.buffer as ArrayBuffer] };
    }
    case 'lastLogits': {
      const logits = await host(request.model).lastLogits(request.rows);
      return { result: { logits }, transfer: [logits.buffer as ArrayBuffer] };
    }
    case 'analyseDiff':
      return {
        result: await host(request.model).analyseDiff(request.refs, request.baseDir, request.priorTop),
      };
    case 'analyseFiles': {
      const adapters = await Promise.all(request.refs.map((r) => loadAdapter(r)));
      return { result: await analyseDiffOfFiles(request.modelDir, adapters, request.baseDir) };
    }
    case 'close': {
      const m = host(request.model);
      const [key, entry] = [...byKey].find(([, e]) => e.id === request.model) ?? [];
      if (entry && --entry.users > 0) return { result: null };
      if (key) byKey.delete(key);
      models.delete(request.model);
      await m.close();
      return { result: null };
    }
  }
}

const port = parentPort;
if (!port) throw new Error('engine-worker must run in a worker thread');
port.on('message', async ({ id, request }: Envelope) => {
  let reply: Reply;
  let transfer: ArrayBuffer[] = [];
  try {
    const out = await handle(request);
    reply = { id, ok: true, result: out.result };
    transfer = out.transfer ?? [];
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    reply = {
      id,
      ok: false,
      error: { message: err.message, input: err instanceof InputError, stack: err.stack },
    };
  }
  port.postMessage(reply, transfer);
});
