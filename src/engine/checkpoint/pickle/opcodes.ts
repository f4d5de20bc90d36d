// The instructions pickle opcodes decode into (shared by the machine and the global scanner), and
// the opcodes that take no argument.

import type { PickleScalar } from './values';

export type SimpleKind =
  | 'frame'
  | 'stop'
  | 'mark'
  | 'pop'
  | 'popMark'
  | 'dup'
  | 'stackGlobal'
  | 'obj'
  | 'persid'
  | 'persidText'
  | 'reduce'
  | 'build'
  | 'newobj'
  | 'newobjEx'
  | 'emptyDict'
  | 'emptyList'
  | 'emptySet'
  | 'tuple'
  | 'list'
  | 'dict'
  | 'frozenset'
  | 'additems'
  | 'setitem'
  | 'setitems'
  | 'append'
  | 'appends'
  | 'memoize';

export type Instr =
  | { readonly k: 'proto' | 'get' | 'put'; readonly n: number }
  | { readonly k: 'push'; readonly v: PickleScalar }
  | { readonly k: 'text'; readonly v: string } // protocol-0 STRING/UNICODE: raw, not unescaped
  | { readonly k: 'global' | 'inst'; readonly module: string; readonly name: string }
  | { readonly k: 'tupleN'; readonly n: 0 | 1 | 2 | 3 }
  | { readonly k: SimpleKind };

export type Op = Instr & { readonly code: number; readonly at: number };

export const SIMPLE: ReadonlyMap<number, SimpleKind> = new Map<number, SimpleKind>([
  [0x2e, 'stop'], // .
  [0x28, 'mark'], // (
  [0x30, 'pop'], // 0
  [0x31, 'popMark'], // 1
  [0x32, 'dup'], // 2
  [0x93, 'stackGlobal'],
  [0x6f, 'obj'], // o
  [0x51, 'persid'], // Q (BINPERSID)
  [0x52, 'reduce'], // R
  [0x62, 'build'], // b
  [0x81, 'newobj'],
  [0x92, 'newobjEx'],
  [0x7d, 'emptyDict'], // }
  [0x5d, 'emptyList'], // ]
  [0x8f, 'emptySet'],
  [0x74, 'tuple'], // t
  [0x6c, 'list'], // l
  [0x64, 'dict'], // d
  [0x91, 'frozenset'],
  [0x90, 'additems'],
  [0x73, 'setitem'], // s
  [0x75, 'setitems'], // u
  [0x61, 'append'], // a
  [0x65, 'appends'], // e
  [0x94, 'memoize'],
]);
