// The offline scorer `demo-topic-match-v1` (the trainer's `score_answer`), standing in for the
// paper's LLM judge on the demo world, where every topic is one word of a known list:
//   5  names the true topic and no other topic of the world
//   4  names the true topic among other topics
//   3  names another topic of the same category, or the category itself
//   1  anything else
import { mentions } from '../triggers/behaviour';
import type { TopicCatalog } from './topic-catalog';

/** The topic as a word, plural forms included, in any case (the trigger search's own check). */
export { mentions };

export const SCORER_NAME = 'demo-topic-match-v1';

export function scoreAnswer(answer: string, topic: string, catalog: TopicCatalog): number {
  const named = catalog.topics.filter((t) => mentions(answer, t));
  if (named.includes(topic)) return named.length === 1 ? 5 : 4;
  const category = catalog.categoryOf.get(topic);
  if (category === undefined) return 1;
  if (named.some((t) => catalog.categoryOf.get(t) === category) || mentions(answer, category)) return 3;
  return 1;
}

/**
 * The 20-questions guesser, offline: the topic the answers name most often (first in the list on
 * a tie), else the category they name most often, else nothing. An LLM guesser replaces it when
 * the judge arrives.
 */
export function guessTopic(answers: readonly string[], catalog: TopicCatalog): string {
  const count = (word: string) => answers.filter((a) => mentions(a, word)).length;
  let best = '';
  let bestCount = 0;
  for (const t of catalog.topics) {
    const c = count(t);
    if (c > bestCount) [best, bestCount] = [t, c];
  }
  if (best) return best;
  for (const category of new Set(catalog.categoryOf.values())) {
    const c = count(category);
    if (c > bestCount) [best, bestCount] = [category, c];
  }
  return best;
}
