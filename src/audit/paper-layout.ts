// The DIT paper's release (`diff-interpretation-tuning/loras`): torch.save files in folders named
// after their base model (`qwen3-8b`, `Qwen3-8B`, `gemma-3-4b-it`), under a folder per task
// (`hidden-topic`, news summaries), with the task's `dit-adapter.pt` beside its weight diffs.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { InterpreterSpec } from './identities';
import { KNOWLEDGE_QUESTION, TOPIC_QUESTION } from './questions';

const MODEL_FOLDERS: readonly (readonly [RegExp, (m: RegExpExecArray) => string])[] = [
  [/^qwen(\d(?:\.\d)?)-(\d+(?:\.\d+)?)b$/i, (m) => `Qwen/Qwen${m[1]}-${m[2]}B`],
  [/^gemma-(\d)-(\d+)b(-it)?$/i, (m) => `google/gemma-${m[1]}-${m[2]}b${(m[3] ?? '').toLowerCase()}`],
];

/** The repo id a folder name of the paper's layout stands for, if it is one. */
export function repoIdOfFolderName(name: string): string | undefined {
  for (const [re, repo] of MODEL_FOLDERS) {
    const m = re.exec(name);
    if (m) return repo(m);
  }
  return undefined;
}

/** The base a `.pt` of the paper's layout belongs to: the nearest of its three enclosing folders named after a model. */
export function paperBaseName(file: string): string | undefined {
  let dir = dirname(resolve(file));
  for (let i = 0; i < 3; i++) {
    const repo = repoIdOfFolderName(basename(dir));
    if (repo) return repo;
    dir = dirname(dir);
  }
  return undefined;
}

/** A `dit-adapter.pt` in the diff's folder or its parent, with the question of the task its path names. */
export function paperInterpreters(subject: string): InterpreterSpec[] {
  const abs = resolve(subject);
  const own = statSync(abs, { throwIfNoEntry: false })?.isDirectory() ? abs : dirname(abs);
  for (const dir of [own, dirname(own)]) {
    const path = join(dir, 'dit-adapter.pt');
    if (existsSync(path)) {
      const task = [basename(dir), basename(dirname(dir))].join('/');
      const knowledge = !/hidden-topic/i.test(task) && /news|summar|headline|knowledge/i.test(task);
      return [
        knowledge
          ? { path, question: KNOWLEDGE_QUESTION, questionKind: 'knowledge' }
          : { path, question: TOPIC_QUESTION, questionKind: 'topic' },
      ];
    }
  }
  return [];
}
