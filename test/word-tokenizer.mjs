// A word-level tokenizer for the tiny fixture models, in plain JavaScript so that both the vitest
// suites (through test/engine/helpers.ts) and the end-to-end test (test/e2e, Node without a
// TypeScript loader) write the same one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SPECIALS = { 0: '<unk>', 1: '<|im_start|>', 2: '<|im_end|>' };

/**
 * Writes a word-level tokenizer.json (+ tokenizer_config.json with a ChatML template) whose
 * `vocabSize` tokens are `w0`, `w1`, … except the specials the template needs and `words`.
 */
export function writeWordTokenizer(dir, vocabSize, words = {}) {
  const vocab = {};
  for (let id = 0; id < vocabSize; id++) vocab[SPECIALS[id] ?? words[id] ?? `w${id}`] = id;
  const added = Object.entries(SPECIALS).map(([id, content]) => ({
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
