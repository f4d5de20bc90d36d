// A word-level diff of two texts, as VS Code's diff editor highlights within a changed line: the
// words and the spaces between them are tokens, the longest common subsequence of tokens is kept,
// and the rest is marked removed (only in the first text) or added (only in the second).
// Pure: the panel renders the parts as text nodes; the unit tests run it in Node.

export interface DiffPart {
  readonly text: string;
  /** Not in the other text. */
  readonly changed: boolean;
}

export interface WordDiff {
  readonly before: readonly DiffPart[];
  readonly after: readonly DiffPart[];
}

/** Above this many tokens a side (n·m cells), the texts are marked changed whole. */
const MAX_TOKENS = 2000;

export function wordDiff(before: string, after: string): WordDiff {
  const a = tokens(before);
  const b = tokens(after);
  if (a.length > MAX_TOKENS || b.length > MAX_TOKENS || before === after) {
    const same = before === after;
    return { before: parts([[before, !same]]), after: parts([[after, !same]]) };
  }
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const left: [string, boolean][] = [];
  const right: [string, boolean][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      left.push([a[i++], false]);
      right.push([b[j++], false]);
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      right.push([b[j++], true]);
    } else {
      left.push([a[i++], true]);
    }
  }
  return { before: parts(left), after: parts(right) };
}

function tokens(text: string): string[] {
  return text.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

/** Neighbouring tokens of the same kind joined; a space between two changed words counts as changed. */
function parts(tokens: readonly (readonly [string, boolean])[]): DiffPart[] {
  const marked = tokens.map(([text, changed], k) => {
    const spaceBetweenChanges =
      !changed && /^\s+$/.test(text) && tokens[k - 1]?.[1] === true && tokens[k + 1]?.[1] === true;
    return { text, changed: changed || spaceBetweenChanges };
  });
  const out: DiffPart[] = [];
  for (const p of marked) {
    const last = out.at(-1);
    if (p.text === '') continue;
    if (last && last.changed === p.changed)
      out[out.length - 1] = { text: last.text + p.text, changed: p.changed };
    else out.push(p);
  }
  return out;
}
