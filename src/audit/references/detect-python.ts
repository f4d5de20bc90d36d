// Checkpoints a Python script loads: the path or repo id passed as a string literal to
// `*.from_pretrained`, `PeftModel.from_pretrained`, `load_file`, `safe_open`, `torch.load` and
// `*.load_adapter`. One pass of a small lexer (strings, comments, names, brackets), so a comment
// or a docstring that mentions `from_pretrained("x")` is not a reference, and time is linear in
// the file's length whatever it holds.
import { MAX_SCANNED_CHARS, plausibleReference, type TextReference } from './reference';

/** Calls whose path argument names a checkpoint, by their last name (and receiver, for `load`). */
const LOADERS = new Set(['from_pretrained', 'load_file', 'safe_open', 'load_adapter']);
const RECEIVED_LOADERS = new Set(['torch.load']);
/** Keyword arguments that carry the path. */
const PATH_KEYWORDS = new Set([
  'pretrained_model_name_or_path',
  'model_id',
  'model_name_or_path',
  'peft_model_id',
  'filename',
  'f',
  'path',
]);

/** Arguments are read this far: a path comes early, and the bound keeps nested calls linear. */
const MAX_ARGUMENT_TOKENS = 256;

type Token =
  | { readonly kind: 'name'; readonly text: string }
  | { readonly kind: 'op'; readonly text: string }
  | {
      readonly kind: 'string';
      /** The literal's value; undefined for an f-string or bytes (not a fixed path). */
      readonly value: string | undefined;
      readonly start: number;
      readonly end: number;
    };

export function detectPythonReferences(source: string): TextReference[] {
  if (source.length > MAX_SCANNED_CHARS) return [];
  const tokens = lex(source);
  const found: TextReference[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const open = tokens[i];
    if (open.kind !== 'op' || open.text !== '(') continue;
    const callee = calleeBefore(tokens, i);
    if (!callee) continue;
    const last = callee.slice(callee.lastIndexOf('.') + 1);
    const receiverAndName = callee.split('.').slice(-2).join('.');
    if (!LOADERS.has(last) && !RECEIVED_LOADERS.has(receiverAndName)) continue;
    const argument = pathArgument(tokens, i + 1);
    if (argument?.value !== undefined && plausibleReference(argument.value)) {
      found.push({ text: argument.value, start: argument.start, end: argument.end, via: callee });
    }
  }
  return found;
}

/** `a.b.c` when the tokens before index `open` are NAME (. NAME)*, else undefined. */
function calleeBefore(tokens: readonly Token[], open: number): string | undefined {
  const names: string[] = [];
  let j = open - 1;
  while (j >= 0) {
    const t = tokens[j];
    if (t.kind !== 'name') break;
    names.unshift(t.text);
    const dot = tokens[j - 1];
    if (names.length >= 8 || !dot || dot.kind !== 'op' || dot.text !== '.') break;
    j -= 2;
  }
  return names.length > 0 ? names.join('.') : undefined;
}

/** The string literal that is the call's path: a keyword one of PATH_KEYWORDS, else the first positional one. */
function pathArgument(tokens: readonly Token[], from: number) {
  let depth = 0;
  let argStart = from;
  let firstPositional: Extract<Token, { kind: 'string' }> | undefined;
  const last = Math.min(tokens.length, from + MAX_ARGUMENT_TOKENS);
  for (let i = from; i < last; i++) {
    const t = tokens[i];
    if (t.kind === 'op' && '([{'.includes(t.text)) depth++;
    else if (t.kind === 'op' && ')]}'.includes(t.text)) {
      if (depth > 0) {
        depth--;
        continue;
      }
      const literal = wholeArgument(tokens, argStart, i);
      if (literal?.keyword !== undefined)
        return PATH_KEYWORDS.has(literal.keyword) ? literal : firstPositional;
      return firstPositional ?? literal;
    } else if (t.kind === 'op' && t.text === ',' && depth === 0) {
      const literal = wholeArgument(tokens, argStart, i);
      if (literal?.keyword !== undefined) {
        if (PATH_KEYWORDS.has(literal.keyword)) return literal;
      } else if (literal && !firstPositional) firstPositional = literal;
      argStart = i + 1;
    }
  }
  return undefined;
}

/** The argument `tokens[from, to)` when it is one string literal, positional or `keyword=`. */
function wholeArgument(tokens: readonly Token[], from: number, to: number) {
  const [a, b, c] = [tokens[from], tokens[from + 1], tokens[from + 2]];
  if (to - from === 1 && a?.kind === 'string') return { ...a, keyword: undefined };
  if (to - from === 3 && a?.kind === 'name' && b?.kind === 'op' && b.text === '=' && c?.kind === 'string') {
    return { ...c, keyword: a.text };
  }
  return undefined;
}

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;
const STRING_PREFIX = /^(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])$/;

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const ch = source[i];
    if (ch === '#') {
      const eol = source.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
    } else if (ch === '"' || ch === "'") {
      i = lexString(source, i, '', tokens);
    } else if (NAME_START.test(ch)) {
      let j = i + 1;
      while (j < n && NAME_PART.test(source[j])) j++;
      const word = source.slice(i, j);
      if (j < n && (source[j] === '"' || source[j] === "'") && STRING_PREFIX.test(word)) {
        i = lexString(source, j, word.toLowerCase(), tokens);
      } else {
        tokens.push({ kind: 'name', text: word });
        i = j;
      }
    } else if (/\s/.test(ch) || ch === '\\') {
      i++;
    } else {
      tokens.push({ kind: 'op', text: ch });
      i++;
    }
  }
  return tokens;
}

/** Lexes the string literal whose opening quote is at `at`; returns the index after it. */
function lexString(source: string, at: number, prefix: string, tokens: Token[]): number {
  const quote = source[at];
  const triple = source.startsWith(quote.repeat(3), at);
  const close = triple ? quote.repeat(3) : quote;
  const start = at + close.length;
  const raw = prefix.includes('r');
  let i = start;
  while (i < source.length) {
    const ch = source[i];
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (!triple && ch === '\n') break;
    if (source.startsWith(close, i)) break;
    i++;
  }
  const end = Math.min(i, source.length);
  const body = source.slice(start, end);
  const fixed = !prefix.includes('f') && !prefix.includes('b') && !triple;
  tokens.push({ kind: 'string', value: fixed ? (raw ? body : unescapePath(body)) : undefined, start, end });
  return Math.min(source.length, end + close.length);
}

/** The escapes a path may hold; a literal with any other escape is taken as written. */
function unescapePath(body: string): string {
  return body.replace(/\\([\\'"])/g, '$1');
}
