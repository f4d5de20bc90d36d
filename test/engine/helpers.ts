// Test helpers: temp folders, writing and rewriting safetensors files, running the built CLI, and
// (from word-tokenizer.mjs, which the e2e test shares) word tokenizers for the tiny models.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openCheckpointTensors } from '../../src/engine/checkpoint/checkpoint-files';
import { CLI } from './paths';

export { writeWordTokenizer } from '../word-tokenizer.mjs';

export function tempDir(prefix = 'dit-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A temp folder for a test file, removed after it, and `fresh()` for a new empty folder in it per
 * case (a property test writes one per run). Call at a test file's top level.
 */
export function freshDirs(prefix: string): () => string {
  const root = tempDir(prefix);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let count = 0;
  return () => {
    const dir = join(root, String(count++));
    mkdirSync(dir);
    return dir;
  };
}

/** Copies a fixture folder into a fresh temp folder, so a test may change it. */
export function copyFixture(dir: string): string {
  const out = tempDir();
  cpSync(dir, out, { recursive: true });
  return out;
}

export interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}
export type Header = Record<string, HeaderEntry | Record<string, string>>;

/** A safetensors file from a header (object, raw text or raw bytes) and a data section. */
export function safetensorsBytes(header: unknown, data: Uint8Array = new Uint8Array(0)): Buffer {
  const json =
    header instanceof Uint8Array
      ? Buffer.from(header)
      : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

export interface F32Tensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A safetensors file of float32 tensors stored in order, with the `format: pt` metadata torch writes. */
export function f32SafetensorsBytes(tensors: readonly F32Tensor[]): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const data = tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return safetensorsBytes(header, Buffer.concat(data));
}

/**
 * A copy of the checkpoint in `src` (its config.json) into `out`, every tensor in float32 as
 * `edit` returns it (given its values as stored, in float32, and its shape), in one model.safetensors.
 */
export async function copyCheckpointAsF32(
  src: string,
  out: string,
  edit: (name: string, data: Float32Array, shape: number[]) => Float32Array,
): Promise<string> {
  const tensors = await openCheckpointTensors(src);
  cpSync(join(src, 'config.json'), join(out, 'config.json'));
  const written: F32Tensor[] = [];
  for (const name of tensors.names()) {
    const shape = [...(tensors.get(name)?.shape ?? [])];
    written.push({ name, shape, data: edit(name, await tensors.readFloat32(name), shape) });
  }
  writeFileSync(join(out, 'model.safetensors'), f32SafetensorsBytes(written));
  return out;
}

/** Rewrites a safetensors file's header with `edit`, keeping the data bytes. */
export function rewriteSafetensors(from: string, to: string, edit: (header: Header) => Header): void {
  const bytes = readFileSync(from);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Header;
  writeFileSync(to, safetensorsBytes(edit(header), bytes.subarray(8 + n)));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], timeout = 60_000): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runCli without blocking this process: for a test that serves something the CLI talks to. */
export function runCliAsync(args: string[], timeout = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
