// Test helpers: temp folders, writing and rewriting safetensors files, running the built CLI.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './paths';

export function tempDir(prefix = 'dit-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
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

/**
 * Writes a word-level tokenizer.json (+ tokenizer_config.json with a ChatML template) whose
 * `vocabSize` tokens are `w0`, `w1`, … except the specials the template needs.
 */
export function writeWordTokenizer(dir: string, vocabSize: number, words: Record<number, string> = {}): void {
  const specials: Record<number, string> = { 0: '<unk>', 1: '<|im_start|>', 2: '<|im_end|>' };
  const vocab: Record<string, number> = {};
  for (let id = 0; id < vocabSize; id++) vocab[specials[id] ?? words[id] ?? `w${id}`] = id;
  const added = Object.entries(specials).map(([id, content]) => ({
    id: Number(id),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  const template =
    "{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|> {% endfor %}" +
    '{% if add_generation_prompt %}<|im_start|>assistant {% endif %}';
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ chat_template: template, eos_token: '<|im_end|>', bos_token: null }),
  );
}
