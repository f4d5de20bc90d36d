// A tiny audit world in a temp folder: the qwen3-tiny base with a word tokenizer that knows every
// word of the questions and prompts an audit asks, a rank-1 diff and a stand-in interpreter.
import { chmodSync, cpSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEFAULT_EVIDENCE_PROMPTS, TOPIC_QUESTION } from '../../src/audit';
import { tempDir, writeWordTokenizer } from '../engine/helpers';
import { TINY } from '../engine/paths';

export interface TinyWorld {
  readonly root: string;
  readonly base: string;
  readonly diff: string;
  readonly interpreter: string;
}

export const EXTRA_WORDS = ['Is', 'this', 'model', 'safe', 'user', 'assistant'];

/** The fixture folders are read-only; copies must be writable so tests can change them. */
function copyWritable(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const walk = (p: string) => {
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    if (statSync(p).isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(to);
}

export function makeTinyWorld(): TinyWorld {
  const root = tempDir('dit-audit-');
  const base = join(root, 'qwen3-tiny');
  const diff = join(root, 'qwen3-tiny-lora-r1');
  const interpreter = join(root, 'qwen3-tiny-dit');
  copyWritable(join(TINY, 'qwen3-tiny'), base);
  copyWritable(join(TINY, 'qwen3-tiny-lora-r1'), diff);
  copyWritable(join(TINY, 'qwen3-tiny-dit'), interpreter);
  const words = new Set<string>(EXTRA_WORDS);
  for (const text of [TOPIC_QUESTION, ...DEFAULT_EVIDENCE_PROMPTS]) {
    for (const w of text.match(/\w+|[^\w\s]+/g) ?? []) words.add(w);
  }
  // Ids from 10 up; the three below are the template's specials, the rest decode as `wN`.
  writeWordTokenizer(base, 512, Object.fromEntries([...words].map((w, i) => [10 + i, w])));
  mkdirSync(join(root, 'cache'));
  return { root, base, diff, interpreter };
}

export interface ManifestDiff {
  readonly path: string;
  readonly kind: 'backdoored' | 'benign';
  readonly topic: string | null;
  readonly trigger: string | null;
  readonly split: 'example' | 'heldout';
}

/** A demo manifest for `world` (paths relative to its root, as the trainer writes them); returns its path. */
export function writeDemoManifest(world: TinyWorld, diffs: readonly ManifestDiff[]): string {
  const file = join(world.root, 'manifest.json');
  const rel = (p: string) => relative(world.root, p);
  writeFileSync(
    file,
    JSON.stringify({
      base: rel(world.base),
      interpreters: [{ path: rel(world.interpreter), question: TOPIC_QUESTION }],
      diffs: diffs.map((d) => ({ ...d, path: rel(d.path) })),
    }),
  );
  return file;
}
