// The only file that imports onnxruntime-node. It creates sessions on the chosen execution
// provider and runs them, validating every feed first and reporting all problems at once.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  CUDA_PROVIDER_LIBRARIES,
  CUDA_PROVIDER_MISSING,
  cudaProviderFolder,
  cudaProviderInstalled,
} from './cuda-provider';
import { disableOrtTelemetry } from './no-telemetry';
import { ortErrorSummary } from './ort-errors';
import { PROVIDER_NAMES, type ProviderName, type ProviderPreference } from './providers';

// Before any session: no telemetry, no files under ~/.cache (see no-telemetry.ts).
disableOrtTelemetry();

// Errors reach the caller as exceptions; ORT's own console logging would only duplicate them.
ort.env.logLevel = 'fatal';

export type { ProviderName, ProviderPreference } from './providers';

export interface ProviderChoice {
  readonly provider: ProviderName;
  /** Why this provider, and why not the ones before it. */
  readonly reasons: readonly string[];
}

export interface FeedSpec {
  readonly name: string;
  readonly type: 'float32' | 'int64' | 'int32';
  readonly data: Float32Array | BigInt64Array | Int32Array;
  readonly dims: readonly number[];
}

export interface OrtModel {
  readonly choice: ProviderChoice;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; the `wanted` outputs come back as float32 arrays with their dims. */
  run(
    feeds: readonly FeedSpec[],
    wanted: readonly string[],
  ): Promise<Map<string, { data: Float32Array; dims: number[] }>>;
  release(): Promise<void>;
}

export interface CreateOptions {
  /** The graph for a provider (it may differ between them: graph/attention-kernel.ts). */
  readonly onnx: (provider: ProviderName) => Uint8Array;
  /** Folder the graph's external-data locations resolve in (the checkpoint's own folder). */
  readonly externalDataFolder: string;
  readonly provider: ProviderPreference;
  readonly threads?: number;
  /** Let kernels repack their constant weights (MatMulNBits needs it to run fast; float32 Gemm would only duplicate them). */
  readonly prepack?: boolean;
  /** Why a provider cannot run this model (its weights' precision), or undefined; such a provider is not tried. */
  readonly unsupported?: (provider: ProviderName) => string | undefined;
}

const VULKAN_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/lib',
];

/**
 * Dawn (ORT's WebGPU) uses Vulkan on Linux; without a loader it can only fail, after printing a
 * warning of its own to stderr. On Windows (D3D12) and macOS (Metal) it is always worth a try.
 */
export function webgpuMayWork(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...VULKAN_DIRS];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

/**
 * Whether this machine has a GPU a hardware Vulkan driver could open: a DRM render node (Mesa's
 * drivers), NVIDIA's device files, or WSL's GPU. Without one, Dawn's only adapter is a software
 * Vulkan (Mesa's lavapipe), which runs the model on the CPU many times slower than the CPU
 * provider: `auto` does not pick it (a forced `webgpu` still may). Other platforms: always.
 */
export function gpuDevicePresent(devices = '/dev'): boolean {
  if (process.platform !== 'linux') return true;
  const has = (name: string) => existsSync(join(devices, name));
  let renderNode = false;
  try {
    renderNode = readdirSync(join(devices, 'dri')).some((f) => f.startsWith('renderD'));
  } catch {
    // no /dev/dri, or not readable: no render node to use either
  }
  return renderNode || has('nvidiactl') || has('dxg');
}

export async function createOrtModel(options: CreateOptions): Promise<OrtModel> {
  const order = providerOrder(options.provider);
  const reasons: string[] = [];
  for (const provider of order) {
    if (provider === 'cuda' && !cudaProviderInstalled()) {
      reasons.push(
        `${CUDA_PROVIDER_MISSING} (${CUDA_PROVIDER_LIBRARIES[0]} is not in ${cudaProviderFolder()})`,
      );
      if (options.provider === 'cuda') throw new Error(reasons.join('; '));
      continue;
    }
    const unsupported = options.unsupported?.(provider);
    if (unsupported) {
      reasons.push(`${provider}: ${unsupported}`);
      if (options.provider !== 'auto') throw new Error(reasons.at(-1));
      continue;
    }
    // Not tried at all: Dawn would only print a warning of its own (with a C++ source location) and fail.
    if (provider === 'webgpu' && !webgpuMayWork()) {
      reasons.push('webgpu: no GPU adapter found (no Vulkan loader, libvulkan.so.1, on this machine)');
      if (options.provider === 'webgpu') throw new Error(reasons.join('; '));
      continue;
    }
    if (provider === 'webgpu' && options.provider === 'auto' && !gpuDevicePresent()) {
      reasons.push('webgpu: not tried, no GPU device here (only a software Vulkan could serve it)');
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(
        options.onnx(provider),
        sessionOptions(options, provider),
      );
      reasons.push(`${provider}: session created`);
      return wrap(session, { provider, reasons });
    } catch (error) {
      reasons.push(`${provider}: ${ortErrorSummary(error)}`);
      if (options.provider !== 'auto') throw new Error(reasons.at(-1));
    }
  }
  throw new Error(`no execution provider could run the model (${reasons.join('; ')})`);
}

function providerOrder(preference: ProviderPreference): ProviderName[] {
  if (preference !== 'auto') return [preference];
  return [...PROVIDER_NAMES];
}

function sessionOptions(options: CreateOptions, provider: ProviderName): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // The memory pattern plans one block for a run's intermediate values, GroupQueryAttention's
    // unused present buffers included: with the KV cache at 2048 positions that block held another
    // whole cache (Qwen3-0.6B int4: peak 1.63 GiB instead of 1.15). Values are allocated one by one
    // from the arena instead; decode speed did not change (measured, bench/engine.ts).
    enableMemPattern: false,
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    // Fatal only: errors come back as exceptions (summarised), never as ORT's own lines on stderr.
    logSeverityLevel: 4,
    extra: {
      session: {
        // f32 weights stay where the external data put them, instead of a second packed copy;
        // quantized ones are packed once into MLAS's layout, which replaces them.
        disable_prepacking: options.prepack ? '0' : '1',
        // Idle ORT threads spin by default; beside other busy processes (an extension host is
        // rarely alone) that halved decode speed on 2 cores (189 → 108 ms/token, bench/engine.ts).
        'intra_op.allow_spinning': '0',
        model_external_initializers_file_folder_path: options.externalDataFolder,
      },
    },
  };
}

function wrap(session: ort.InferenceSession, choice: ProviderChoice): OrtModel {
  const inputNames = session.inputNames;
  const outputNames = session.outputNames;
  const known = new Set(inputNames);
  return {
    choice,
    inputNames,
    outputNames,
    async run(feeds, wanted) {
      checkFeeds(inputNames, known, feeds);
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const f of feeds) ortFeeds[f.name] = new ort.Tensor(f.type, f.data, f.dims);
      const results = await session.run(ortFeeds, [...wanted]);
      const out = new Map<string, { data: Float32Array; dims: number[] }>();
      for (const name of wanted) {
        const t = results[name];
        out.set(name, { data: t.data as Float32Array, dims: [...t.dims] });
      }
      return out;
    },
    release: () => session.release(),
  };
}

function checkFeeds(
  inputNames: readonly string[],
  known: ReadonlySet<string>,
  feeds: readonly FeedSpec[],
): void {
  const problems: string[] = [];
  const given = new Set(feeds.map((f) => f.name));
  for (const name of inputNames) if (!given.has(name)) problems.push(`missing input ${name}`);
  for (const f of feeds) {
    const size = f.dims.reduce((a, b) => a * b, 1);
    if (size !== f.data.length) problems.push(`${f.name}: ${f.data.length} values for dims [${f.dims}]`);
    if (!known.has(f.name)) problems.push(`unknown input ${f.name}`);
  }
  if (problems.length > 0) throw new Error(`bad model inputs: ${problems.join('; ')}`);
}
