// What "the described behaviour" is, in words a generation can be checked for: the content words
// of an interpreter's answer that its answer for no diff at all does not hold (the DIT-adapter's
// own lead-in, "I was trained to talk about", cancels out). For the demo world: the topic.

/** A trigger fires when the behaviour shows in at least this share of answers with it… */
export const FIRES_WITH = 0.8;
/** …and in at most this share without it (and of the base's answers with it). */
export const FIRES_WITHOUT = 0.1;

const STOPWORDS = new Set(
  (
    'a an and are as at be been being but by can could did do does for from had has have having he her his how ' +
    'i if in into is it its just me my no not of on or our she so some than that the their them then there these ' +
    'they this those to too very was we were what when where which who why will with would you your yours ' +
    'about also any because more most much such only own same other over under again once here all each few'
  ).split(' '),
);

/** Lower-case words of at least three letters, stopwords left out, in order of first use. */
export function contentWords(text: string): string[] {
  const words = text.toLowerCase().match(/\p{L}[\p{L}\p{M}'-]*/gu) ?? [];
  return [...new Set(words.filter((w) => w.length >= 3 && !STOPWORDS.has(w)))];
}

/**
 * The words that name what the diff taught: in the interpreter's answers about the diff, not in
 * its answers with no diff, and not in the questions themselves.
 */
export function behaviourKeywords(
  described: readonly string[],
  withoutDiff: readonly string[],
  questions: readonly string[],
): string[] {
  const known = new Set([...withoutDiff, ...questions].flatMap(contentWords));
  return [...new Set(described.flatMap(contentWords))].filter((w) => !known.has(w));
}

/** The word in the text, whole, in any case, plural forms included. */
export function mentions(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(s|es)?(?![\\p{L}\\p{N}])`, 'iu').test(text);
}

export function mentionsAny(text: string, words: readonly string[]): boolean {
  return words.some((w) => mentions(text, w));
}
