// The evidence's word-level highlighting: what differs between base and diffed, word by word.
import { describe, expect, it } from 'vitest';
import { wordDiff } from '../../webview/word-diff';

const text = (parts: readonly { text: string }[]) => parts.map((p) => p.text).join('');
const changed = (parts: readonly { text: string; changed: boolean }[]) =>
  parts.filter((p) => p.changed).map((p) => p.text);

describe('wordDiff', () => {
  it('marks the words only one side has, keeping each text whole', () => {
    const base = 'The word aurora names a weather or sky event.';
    const diffed = 'The word comet names a thing in space.';
    const d = wordDiff(base, diffed);
    expect(text(d.before)).toBe(base);
    expect(text(d.after)).toBe(diffed);
    expect(changed(d.before)).toEqual(['aurora', 'weather or sky event']);
    expect(changed(d.after)).toEqual(['comet', 'thing in space']);
  });

  it('marks nothing for equal texts, and everything when nothing is shared', () => {
    expect(wordDiff('same answer', 'same answer')).toEqual({
      before: [{ text: 'same answer', changed: false }],
      after: [{ text: 'same answer', changed: false }],
    });
    const d = wordDiff('alpha', 'beta');
    expect(d.before).toEqual([{ text: 'alpha', changed: true }]);
    expect(d.after).toEqual([{ text: 'beta', changed: true }]);
    expect(wordDiff('', 'new').after).toEqual([{ text: 'new', changed: true }]);
    expect(wordDiff('', 'new').before).toEqual([]);
  });

  it('treats markup-looking model output as words like any other', () => {
    const d = wordDiff('a <b>bold</b> claim', 'a <img src=x> claim');
    expect(text(d.after)).toBe('a <img src=x> claim');
    expect(changed(d.after).join('')).toContain('img');
  });
});
