// JSON as checkpoint files must hold it. JSON.parse takes silently what a hostile file can use to
// say two things at once or to exhaust the stack: a key twice in one object (JSON.parse keeps the
// last, another reader the first), a leading byte-order mark (stripped by a decoder), and nesting
// deep enough to overflow a recursive walk. Each is refused with what it is.
/** Deeper than any config, index, tokenizer or safetensors header is. */
export const MAX_JSON_DEPTH = 128;

/** The parsed value, or a problem in a few words ("has the key "x" twice in one object"). */
export function parseStrictJson(text: string): { value: unknown } | { problem: string } {
  if (text.charCodeAt(0) === 0xfeff) return { problem: 'starts with a byte-order mark (U+FEFF)' };
  const shape = scan(text);
  if (shape.tooDeep) return { problem: `nests deeper than ${MAX_JSON_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `not valid JSON (${(error as Error).message.split('\n')[0].slice(0, 200)})` };
  }
  if (shape.duplicate !== undefined) {
    return { problem: `has the key ${JSON.stringify(shape.duplicate.slice(0, 120))} twice in one object` };
  }
  return { value };
}

/**
 * One pass over the text, without recursion: the nesting depth and the first key seen twice in
 * one object. On malformed text the answer may be wrong, but JSON.parse then refuses it anyway.
 */
function scan(text: string): { tooDeep: boolean; duplicate?: string } {
  const stack: (Set<string> | null)[] = []; // an object's keys so far, or null for an array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
        } else if (d === 0x22) break;
        else j++;
      }
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = escaped ? decodeString(text.slice(i, j + 1)) : text.slice(i + 1, j);
        if (keys.has(key)) return { tooDeep: false, duplicate: key };
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      stack.push(c === 0x7b ? new Set() : null);
      if (stack.length > MAX_JSON_DEPTH) return { tooDeep: true };
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return { tooDeep: false };
}

function decodeString(literal: string): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal;
  }
}
