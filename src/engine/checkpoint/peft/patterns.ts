// Module selectors and per-module patterns from adapter_config.json, compiled for a linear-time
// regex engine (RE2): no pattern can backtrack, whatever its shape.

import { RE2JS } from 're2js';
import { quoteName } from '../safetensors';
import { InputError, LINEAR_MODULES } from '../types';
import { ADAPTER_CONFIG } from './files';
import { isPlainObject } from './guards';

/** Which module names an adapter targets, as PEFT's `check_target_module_exists` decides. */
export type ModuleSelector =
  | { readonly kind: 'names'; readonly names: readonly string[] }
  | { readonly kind: 'regex'; readonly re: ModulePattern };

/** A compiled pattern: `test` searches, `exec` gives the groups of the first match. */
export interface ModulePattern {
  test(name: string): boolean;
  exec(name: string): readonly (string | undefined)[] | null;
}

/** Longest pattern source, and largest compiled program, accepted from a config. */
const MAX_PATTERN_LENGTH = 1000;
const MAX_PROGRAM_SIZE = 20_000;

export function parseSelector(
  value: unknown,
  field: string,
  dir: string,
  bad: (field: string, want: string) => InputError,
): ModuleSelector | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'all-linear') return { kind: 'names', names: LINEAR_MODULES };
  if (typeof value === 'string')
    return { kind: 'regex', re: compileRegex(`^(?:${value})$`, value, field, dir) };
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) {
    return { kind: 'names', names: value };
  }
  throw bad(field, 'a list of module names or a regex string');
}

export function parsePattern(
  value: unknown,
  field: string,
  dir: string,
  valid: (v: unknown) => v is number,
  bad: (field: string, want: string) => InputError,
): (readonly [ModulePattern, string, number])[] {
  if (value === undefined || value === null) return [];
  if (!isPlainObject(value)) throw bad(field, 'an object');
  return Object.entries(value).map(([key, v]) => {
    if (!valid(v)) throw bad(`${field}[${quoteName(key)}]`, 'a valid number');
    return [compileRegex(`^(?:.*\\.)?(?:${key})$`, key, field, dir), key, v] as const;
  });
}

/**
 * Compiles a regex taken from an adapter config with RE2, which matches in time linear in the
 * name, so no pattern can hang a match. RE2 has no backreferences or lookaround (Python's `re`
 * has); a pattern that uses them is refused, as is one too long or whose program is too large.
 */
export function compileRegex(source: string, shown: string, field: string, dir: string): ModulePattern {
  const where = `adapter ${dir}: ${ADAPTER_CONFIG} field ${field} has the pattern ${quoteName(shown.slice(0, 200))}`;
  if (shown.length > MAX_PATTERN_LENGTH)
    throw new InputError(`${where}, which is too long (over ${MAX_PATTERN_LENGTH} characters)`);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch {
    throw new InputError(
      `${where}, which is not a regular expression dit-auditor can match (invalid, or it uses backreferences or lookaround)`,
    );
  }
  if (compiled.programSize() > MAX_PROGRAM_SIZE)
    throw new InputError(`${where}, which is too complex to match`);
  return wrap(compiled);
}

/** PEFT's default layer-index pattern: the number after the module list's name. */
export const DEFAULT_LAYER_PATTERN: ModulePattern = wrap(RE2JS.compile('^.*\\.[^.]*\\.(\\d+)\\.'));

function wrap(compiled: RE2JS): ModulePattern {
  return { test: (name) => compiled.test(name), exec: (name) => compiled.exec(name) };
}
