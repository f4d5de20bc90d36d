// Checkpoints that training and inference configs name: keys such as `base_model:` and
// `lora_model_dir:` in YAML (axolotl, LLaMA-Factory), the same keys in JSON (`adapter_config.json`'s
// `base_model_name_or_path`), and `base_model:` in a model card's front matter. Read line by line
// or with one regex whose alternatives cannot overlap, so time stays linear in the text.
import { MAX_SCANNED_CHARS, plausibleReference, type TextReference } from './reference';

/** Keys whose value is a checkpoint: a local path or a repo id. */
export const CHECKPOINT_KEYS = [
  'base_model',
  'base_model_name_or_path',
  'model_name_or_path',
  'pretrained_model_name_or_path',
  'model_path',
  'lora_model_dir',
  'adapter',
  'adapter_path',
  'adapter_name_or_path',
  'peft_model_id',
  'checkpoint',
  'checkpoint_path',
  'resume_from_checkpoint',
] as const;

const KEYS: ReadonlySet<string> = new Set(CHECKPOINT_KEYS);
/** Longer lines are minified data, not a config a person wrote: skipped. */
const MAX_LINE = 4096;
const YAML_KEY = /^(\s*)(?:-\s+)?(["']?)([A-Za-z_][\w.-]*)\2\s*:(?:[ \t]+|$)/;
const YAML_ITEM = /^(\s*)-[ \t]+/;
const JSON_PAIR = new RegExp(`"(${CHECKPOINT_KEYS.join('|')})"\\s*:\\s*"((?:[^"\\\\\\n]|\\\\.)*)"`, 'g');

export function detectJsonReferences(text: string): TextReference[] {
  if (text.length > MAX_SCANNED_CHARS) return [];
  const found: TextReference[] = [];
  for (const match of text.matchAll(JSON_PAIR)) {
    const raw = match[2];
    let value: string;
    try {
      value = JSON.parse(`"${raw}"`) as string;
    } catch {
      continue;
    }
    const end = (match.index ?? 0) + match[0].length - 1;
    if (plausibleReference(value)) found.push({ text: value, start: end - raw.length, end, via: match[1] });
  }
  return found;
}

export function detectYamlReferences(text: string, offset = 0): TextReference[] {
  if (text.length > MAX_SCANNED_CHARS) return [];
  const found: TextReference[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const { line, at } = lines[i];
    if (line.length > MAX_LINE) continue;
    const key = YAML_KEY.exec(line);
    if (!key || !KEYS.has(key[3])) continue;
    const rest = line.slice(key[0].length);
    const place = (s: Scalar) => push(found, s, offset + at + key[0].length, key[3]);
    if (rest.trim() === '' || rest.trimStart().startsWith('#')) {
      // A block sequence: `base_model:` then `- org/name` lines.
      for (let j = i + 1; j < lines.length; j++) {
        const next = lines[j];
        if (next.line.trim() === '' || next.line.trimStart().startsWith('#')) continue;
        const item = YAML_ITEM.exec(next.line);
        if (!item || next.line.length > MAX_LINE) break;
        const scalar = yamlScalar(next.line.slice(item[0].length));
        if (scalar) push(found, scalar, offset + next.at + item[0].length, key[3]);
      }
    } else if (rest.trimStart().startsWith('[')) {
      for (const scalar of flowSequence(rest)) place(scalar);
    } else {
      const scalar = yamlScalar(rest);
      if (scalar) place(scalar);
    }
  }
  return found;
}

/** The front matter of a model card (`---` … `---` at the top of a README.md). */
export function detectFrontMatterReferences(text: string): TextReference[] {
  const opening = /^---[ \t]*\r?\n/.exec(text);
  if (!opening) return [];
  const body = text.slice(opening[0].length);
  const closing = /^---[ \t]*$/m.exec(body);
  if (!closing) return [];
  return detectYamlReferences(body.slice(0, closing.index), opening[0].length);
}

interface Scalar {
  readonly value: string;
  /** Offsets of the value within the text it was read from. */
  readonly start: number;
  readonly end: number;
}

function push(found: TextReference[], scalar: Scalar, base: number, via: string): void {
  if (!plausibleReference(scalar.value)) return;
  found.push({ text: scalar.value, start: base + scalar.start, end: base + scalar.end, via });
}

/** A YAML scalar at the start of `text`: quoted, or plain up to a ` #` comment. */
function yamlScalar(text: string): Scalar | undefined {
  const lead = text.length - text.trimStart().length;
  const first = text[lead];
  if (first === '"' || first === "'") {
    const close = text.indexOf(first, lead + 1);
    if (close < 0) return undefined;
    const value = text.slice(lead + 1, close);
    return { value: first === '"' ? value.replace(/\\(["\\])/g, '$1') : value, start: lead + 1, end: close };
  }
  const comment = text.search(/\s#/);
  const value = (comment < 0 ? text : text.slice(0, comment)).trimEnd();
  if (value === '' || /^[|>&*!{[]/.test(value)) return undefined;
  return { value: value.slice(lead), start: lead, end: value.length };
}

/** `[a, "b"]` on one line. */
function flowSequence(text: string): Scalar[] {
  const open = text.indexOf('[');
  const close = text.indexOf(']', open);
  if (close < 0) return [];
  const scalars: Scalar[] = [];
  let at = open + 1;
  for (const part of text.slice(open + 1, close).split(',')) {
    const scalar = yamlScalar(part);
    if (scalar) scalars.push({ ...scalar, start: at + scalar.start, end: at + scalar.end });
    at += part.length + 1;
  }
  return scalars;
}

function splitLines(text: string): { line: string; at: number }[] {
  const lines: { line: string; at: number }[] = [];
  let at = 0;
  while (at <= text.length) {
    const eol = text.indexOf('\n', at);
    const end = eol < 0 ? text.length : eol;
    lines.push({ line: text.slice(at, end).replace(/\r$/, ''), at });
    if (eol < 0) break;
    at = eol + 1;
  }
  return lines;
}
