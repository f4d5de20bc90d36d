// Module selectors and per-module patterns from adapter_config.json, compiled to regexes; patterns
// that could backtrack for a long time are refused.

import { quoteName } from '../safetensors';
import { InputError, LINEAR_MODULES } from '../types';
import { ADAPTER_CONFIG } from './files';
import { isPlainObject } from './guards';

/** Which module names an adapter targets, as PEFT's `check_target_module_exists` decides. */
export type ModuleSelector =
  | { readonly kind: 'names'; readonly names: readonly string[] }
  | { readonly kind: 'regex'; readonly re: RegExp };

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
): (readonly [RegExp, string, number])[] {
  if (value === undefined || value === null) return [];
  if (!isPlainObject(value)) throw bad(field, 'an object');
  return Object.entries(value).map(([key, v]) => {
    if (!valid(v)) throw bad(`${field}[${quoteName(key)}]`, 'a valid number');
    return [compileRegex(`^(?:.*\\.)?(?:${key})$`, key, field, dir), key, v] as const;
  });
}

/**
 * Compiles a regex taken from an adapter config. Module names are short, but a hostile pattern
 * with nested or many unbounded quantifiers could still backtrack for hours, so those are refused.
 */
export function compileRegex(source: string, shown: string, field: string, dir: string): RegExp {
  const where = `adapter ${dir}: ${ADAPTER_CONFIG} field ${field} has the pattern ${quoteName(shown)}`;
  const nestedQuantifier = /\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)[*+{]/;
  const unbounded = shown.match(/[*+]|\{\d+,\}/g)?.length ?? 0;
  if (shown.length > 1000 || nestedQuantifier.test(shown) || unbounded > 6) {
    throw new InputError(`${where}, which is too complex to match safely`);
  }
  try {
    return new RegExp(source);
  } catch {
    throw new InputError(`${where}, which is not a valid regular expression`);
  }
}
