// The PyTorch side of the engine benchmark: runs bench/torch_qwen3.py (a Qwen3 forward in PyTorch
// eager with a PEFT LoRA stack) in a child process and returns its measurements.
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/** One level below the repo root both as bench/*.ts and bundled as dist/bench-*.js. */
export const TORCH_SCRIPT = resolve(__dirname, '..', 'bench', 'torch_qwen3.py');

export type TorchDtype = 'bf16' | 'f32';

export interface TorchRunOptions {
  model: string;
  /** PEFT adapter folders, stacked in order. */
  adapters?: readonly string[];
  dtype?: TorchDtype;
  threads?: number;
  /** The prompt; without it the script draws `promptLength` ids from mulberry32(seed). */
  ids?: readonly number[];
  promptLength?: number;
  seed?: number;
  /** Decode forwards, counted as bench/engine.ts counts them. */
  steps?: number;
  /** Untimed runs before the measured one (default 1). */
  warmup?: number;
  /** Writes float32 logits [prompt + steps, vocab] here (raw little-endian, or .npy). */
  dumpLogits?: string;
  /** Interpreter; default: the first of $DIT_TORCH_PYTHON, python3, /usr/bin/python3 with torch. */
  python?: string;
  timeoutMs?: number;
}

export interface TorchRunResult {
  dtype: TorchDtype;
  threads: number;
  torchVersion: string;
  params: number;
  /** Bytes of the weights as held in the run's dtype (LoRA factors included). */
  weightBytes: number;
  loraModules: number;
  /** Sum of the stacked adapters' ranks over all modules. */
  loraRank: number;
  loadSeconds: number;
  promptIds: number[];
  promptLength: number;
  steps: number;
  prefillMs: number;
  prefillTokensPerSecond: number;
  /** Prefill computed every row's logits (it does when they are dumped), not just the last. */
  prefillAllRows: boolean;
  stepMs: number[];
  medianDecodeMs: number | null;
  decodeTokensPerSecond: number | null;
  /** `steps` greedy tokens, the first picked by the prefill. */
  tokens: number[];
  finite: boolean;
  /** The first (warm-up) run, when there was one. */
  cold: { prefillMs: number; medianDecodeMs: number | null } | null;
  peakRssBytes: number;
  logitsFile: string | null;
  logitsShape: [number, number] | null;
  python: string;
}

let found: string | null | undefined;

/** The interpreter that can import torch, or null; probed once. */
export function torchPython(): string | null {
  if (found !== undefined) return found;
  // pyenv or a venv may shadow Debian's python3, which is where python3-torch installs.
  const candidates = [process.env.DIT_TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (p): p is string => !!p,
  );
  found = null;
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) {
      found = python;
      break;
    }
  }
  return found;
}

export function torchAvailable(): boolean {
  return torchPython() !== null;
}

export function torchArgs(o: TorchRunOptions): string[] {
  const args = [TORCH_SCRIPT, '--json', '--model', o.model];
  for (const a of o.adapters ?? []) args.push('--adapter', a);
  if (o.dtype) args.push('--dtype', o.dtype);
  if (o.threads !== undefined) args.push('--threads', String(o.threads));
  if (o.ids) args.push('--ids', o.ids.join(','));
  if (o.promptLength !== undefined) args.push('--prompt-len', String(o.promptLength));
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.steps !== undefined) args.push('--steps', String(o.steps));
  if (o.warmup !== undefined) args.push('--warmup', String(o.warmup));
  if (o.dumpLogits) args.push('--dump-logits', o.dumpLogits);
  return args;
}

/** Runs the PyTorch baseline once; rejects with its stderr when it fails. */
export function runTorchQwen3(o: TorchRunOptions): Promise<TorchRunResult> {
  const python = o.python ?? torchPython();
  if (!python) return Promise.reject(new Error('no python3 with torch found (set DIT_TORCH_PYTHON)'));
  return new Promise((done, fail) => {
    const child = spawn(python, torchArgs(o), {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: o.timeoutMs ?? 30 * 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        fail(new Error(`torch_qwen3.py exited ${code ?? signal}: ${stderr.trim()}`));
        return;
      }
      try {
        done({ ...(JSON.parse(stdout) as Omit<TorchRunResult, 'python'>), python });
      } catch {
        fail(new Error(`torch_qwen3.py printed no JSON: ${stdout.slice(0, 200)} ${stderr.trim()}`));
      }
    });
  });
}
