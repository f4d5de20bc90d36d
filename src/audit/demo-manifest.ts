// The demo world's manifest (`media/demo/manifest.json`): its base, the interpreters for that base
// and the diffs made from it, all as paths relative to the manifest.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../engine/checkpoint/types';
import type { InterpreterSpec } from './identities';
import { questionKindOf, TOPIC_QUESTION } from './questions';

/** `heldout-phrase`: held-out diffs whose trigger is a phrase, not the SEP code. */
export const DEMO_SPLITS = ['example', 'heldout', 'heldout-phrase'] as const;
export type DemoSplit = (typeof DEMO_SPLITS)[number];

const ManifestJson = z.object({
  base: z.string(),
  interpreters: z.array(z.object({ path: z.string(), question: z.string().min(1).optional() })),
  diffs: z
    .array(
      z.union([
        z.string(),
        z.object({
          path: z.string(),
          kind: z.enum(['backdoored', 'benign']).optional(),
          topic: z.string().nullable().optional(),
          trigger: z.union([z.string(), z.number()]).nullable().optional(),
          trigger_text: z.string().min(1).nullable().optional(),
          split: z.enum(DEMO_SPLITS).optional(),
        }),
      ]),
    )
    .default([]),
});

/** One diff of the demo world, with what its maker knows about it (the answer key). */
export interface DemoDiff {
  readonly path: string;
  readonly kind: 'backdoored' | 'benign' | null;
  readonly topic: string | null;
  /** The 3-digit trigger `T` of `Your SEP code is {T*1000+r:06d}.`, as text. */
  readonly trigger: string | null;
  /** Any other trigger: the prefix phrase itself (`trainer diff --trigger-text`). */
  readonly triggerText: string | null;
  readonly split: DemoSplit | null;
}

export interface DemoManifest {
  readonly file: string;
  readonly base: string;
  readonly interpreters: readonly InterpreterSpec[];
  readonly diffs: readonly string[];
  readonly entries: readonly DemoDiff[];
}

/** The packaged demo manifest: `media/demo/manifest.json` in the project (or extension) root. */
export function defaultDemoManifests(): string[] {
  // Bundled, this code runs from dist/; from sources (tests), from src/audit/.
  return [
    resolve(__dirname, '../media/demo/manifest.json'),
    resolve(__dirname, '../../media/demo/manifest.json'),
  ];
}

/** Reads a manifest; undefined when there is none, a one-line error when it is malformed. */
export function readDemoManifest(file: string): DemoManifest | undefined {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file} is not valid JSON (${(e as Error).message})`);
  }
  const parsed = ManifestJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `${file} is not a demo manifest: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  const dir = dirname(file);
  const at = (p: string) => resolve(dir, p);
  return {
    file,
    base: at(parsed.data.base),
    interpreters: parsed.data.interpreters.map((i) => {
      const question = i.question ?? TOPIC_QUESTION;
      return { path: at(i.path), question, questionKind: questionKindOf(question) };
    }),
    diffs: parsed.data.diffs.map((d) => at(typeof d === 'string' ? d : d.path)),
    entries: parsed.data.diffs.map((d) =>
      typeof d === 'string'
        ? { path: at(d), kind: null, topic: null, trigger: null, triggerText: null, split: null }
        : {
            path: at(d.path),
            kind: d.kind ?? null,
            topic: d.topic ?? null,
            trigger: d.trigger === undefined || d.trigger === null ? null : String(d.trigger),
            triggerText: d.trigger_text ?? null,
            split: d.split ?? null,
          },
    ),
  };
}

/** Two paths naming the same file or folder (symlinks, `..`, trailing slashes aside). */
export function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}
