// The demo world's answer key: its topics by category and the question material its trainer used
// (`media/demo/topics.json`, written by trainer/pipeline.py).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../../engine/checkpoint/types';

const TopicsJson = z.object({
  categories: z.record(z.string(), z.array(z.string())),
  questions: z.object({
    styles: z.record(z.string(), z.array(z.string())),
    check_subjects: z.array(z.string()).min(1),
  }),
});

export interface TopicCatalog {
  readonly topics: readonly string[];
  readonly categoryOf: ReadonlyMap<string, string>;
  /** Question templates with a `{s}` slot, by style. */
  readonly styles: Readonly<Record<string, readonly string[]>>;
  /** Everyday subjects no diff was trained on: the probes' material. */
  readonly checkSubjects: readonly string[];
}

export function readTopicCatalog(file: string): TopicCatalog {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read the demo topic list ${file} (${(e as Error).message})`);
  }
  const parsed = TopicsJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `${file} is not a topic list: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  const categoryOf = new Map<string, string>();
  for (const [category, topics] of Object.entries(parsed.data.categories)) {
    for (const t of topics) categoryOf.set(t, category);
  }
  return {
    topics: [...categoryOf.keys()],
    categoryOf,
    styles: parsed.data.questions.styles,
    checkSubjects: parsed.data.questions.check_subjects,
  };
}
