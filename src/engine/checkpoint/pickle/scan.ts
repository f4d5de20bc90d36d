// Listing the globals a pickle references without running anything: the opcodes are walked, nothing
// is built and nothing is called.

import { InputError } from '../types';
import { isAllowedGlobal } from './allowlist';
import { Decoder } from './decoder';
import { malformed } from './errors';
import { MAX_MEMO } from './limits';
import { FencedStack } from './stack';

/** What the scanner knows of a stack slot: a string's value, or nothing. */
type Token = string | undefined;

export interface PickleScan {
  /** `module.name` of every GLOBAL / STACK_GLOBAL / INST, first occurrence order, no repeats. */
  readonly globals: readonly string[];
  /** Those not on the allowlist (a STACK_GLOBAL whose name cannot be known counts as one). */
  readonly forbidden: readonly string[];
  /** Offset just past the STOP opcode. */
  readonly end: number;
  /** Opcodes read. */
  readonly ops: number;
}

/**
 * Walks the opcodes of the pickle starting at `start`, up to its STOP, tracking only which stack
 * slots hold strings so STACK_GLOBAL can be named. Nothing is built and nothing is called. A pickle
 * that breaks off (truncated, malformed) after naming a forbidden global is reported with what it
 * named so far, as Python would have called it before failing; one with no forbidden global throws.
 */
export function scanPickle(bytes: Uint8Array, file: string, start = 0): PickleScan {
  const globals = new Map<string, boolean>(); // name -> allowed
  const forbidden = () => [...globals].filter(([, allowed]) => !allowed).map(([name]) => name);
  try {
    return walk(bytes, file, start, globals, forbidden);
  } catch (error) {
    if (error instanceof InputError && forbidden().length > 0) {
      return { globals: [...globals.keys()], forbidden: forbidden(), end: bytes.length, ops: 0 };
    }
    throw error;
  }
}

function walk(
  bytes: Uint8Array,
  file: string,
  start: number,
  globals: Map<string, boolean>,
  forbidden: () => string[],
): PickleScan {
  const decoder = new Decoder(bytes, file, start);
  const stack = new FencedStack<Token>(file);
  const memo = new Map<number, Token>();
  const note = (module: string, name: string) =>
    globals.set(`${module}.${name}`, isAllowedGlobal(module, name));
  const popN = (n: number) => {
    for (let i = 0; i < n; i++) stack.pop();
  };
  for (;;) {
    const op = decoder.next();
    switch (op.k) {
      case 'stop':
        stack.pop();
        return {
          globals: [...globals.keys()],
          forbidden: forbidden(),
          end: decoder.pos,
          ops: decoder.opsRead,
        };
      case 'proto':
      case 'frame':
        break;
      case 'global':
        note(op.module, op.name);
        stack.push(undefined);
        break;
      case 'inst':
        note(op.module, op.name);
        stack.popMark();
        stack.push(undefined);
        break;
      case 'stackGlobal': {
        const name = stack.pop();
        const module = stack.pop();
        if (module !== undefined && name !== undefined) note(module, name);
        else globals.set(`<STACK_GLOBAL with a computed name at byte ${op.at}>`, false);
        stack.push(undefined);
        break;
      }
      case 'mark':
        stack.mark();
        break;
      case 'pop':
        stack.popAny();
        break;
      case 'popMark':
      case 'setitems':
      case 'appends':
      case 'additems':
        stack.popMark();
        break;
      case 'dup':
        stack.push(stack.top());
        break;
      case 'push':
        stack.push(typeof op.v === 'string' ? op.v : undefined);
        break;
      case 'text':
      case 'emptyDict':
      case 'emptyList':
      case 'emptySet':
        stack.push(undefined);
        break;
      case 'persid':
        popN(1);
        stack.push(undefined);
        break;
      case 'persidText':
        stack.push(undefined);
        break;
      case 'reduce':
      case 'newobj':
        popN(2);
        stack.push(undefined);
        break;
      case 'newobjEx':
        popN(3);
        stack.push(undefined);
        break;
      case 'build':
      case 'append':
        popN(1);
        stack.top();
        break;
      case 'setitem':
        popN(2);
        stack.top();
        break;
      case 'obj':
      case 'tuple':
      case 'list':
      case 'dict':
      case 'frozenset':
        stack.popMark();
        stack.push(undefined);
        break;
      case 'tupleN':
        popN(op.n);
        stack.push(undefined);
        break;
      case 'put':
        if (memo.size >= MAX_MEMO && !memo.has(op.n)) throw malformed(file, 'memo too large');
        memo.set(op.n, stack.top());
        break;
      case 'memoize':
        if (memo.size >= MAX_MEMO) throw malformed(file, 'memo too large');
        memo.set(memo.size, stack.top());
        break;
      case 'get':
        if (!memo.has(op.n)) throw malformed(file, `memo entry ${op.n} was never stored`);
        stack.push(memo.get(op.n));
        break;
    }
  }
}

/** The globals one pickle references, `module.name`, without running it (for `dit-audit inspect`). */
export function listPickleGlobals(bytes: Uint8Array, file: string): string[] {
  return [...scanPickle(bytes, file).globals];
}
