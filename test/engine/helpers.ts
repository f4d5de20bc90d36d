// Test helpers: temp folders, rewriting safetensors headers, running the built CLI.
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

/** Rewrites a safetensors file's header with `edit`, keeping the data bytes. */
export function rewriteSafetensors(from: string, to: string, edit: (header: Header) => Header): void {
  const bytes = readFileSync(from);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Header;
  const json = Buffer.from(JSON.stringify(edit(header)), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(to, Buffer.concat([length, json, bytes.subarray(8 + n)]));
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
