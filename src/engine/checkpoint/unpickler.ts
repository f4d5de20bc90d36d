// A pickle reader that cannot run code: every GLOBAL resolves through ALLOWLIST to a pure TypeScript
// function, anything else is refused by name at the GLOBAL opcode itself. No blocklist anywhere.

import { type DType, InputError } from './types';

// ---------------------------------------------------------------------------------------------
// Values

export type PickleScalar = null | boolean | number | bigint | string | Uint8Array;

/** A tree of unpickled values whose non-container leaves are `L` (tensors, storages, ...). */
export type PickleTree<L> =
  | PickleScalar
  | L
  | PickleTree<L>[]
  | PickleTuple<L>
  | Map<PickleTree<L>, PickleTree<L>>;

/** A Python tuple (lists are plain arrays, dicts and OrderedDicts are Maps). */
export class PickleTuple<L = PickleLeaf> {
  constructor(readonly items: readonly PickleTree<L>[]) {}
}

/** A global from the allowlist that can be called by REDUCE / NEWOBJ. */
export class PickleCallable {
  constructor(
    readonly name: string,
    readonly call: (args: readonly PickleValue[], file: string) => PickleValue,
  ) {}
}

/** `torch.BFloat16Storage` and friends: only ever used as the type inside a persistent id. */
export class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: DType,
  ) {}
}

/** A storage named by a persistent id `("storage", type, key, location, numel)`; bytes live elsewhere. */
export class PickledStorage {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly location: string,
  ) {}
}

/** A tensor view from `torch._utils._rebuild_tensor_v2`, bounds already checked against its storage. */
export class PickledTensor {
  constructor(
    readonly storage: PickledStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

export type PickleLeaf = PickleCallable | StorageType | PickledStorage | PickledTensor;
export type PickleValue = PickleTree<PickleLeaf>;
export type PickleDict = Map<PickleValue, PickleValue>;

// ---------------------------------------------------------------------------------------------
// Limits

const MAX_STACK = 1_000_000;
const MAX_MARKS = 100_000;
const MAX_MEMO = 1_000_000;
const MAX_LONG_BYTES = 1024;
const MAX_LINE = 4096;
const MAX_DIMS = 16;
/** Element counts and offsets above this are not tensors anyone saves (and keep arithmetic exact). */
const MAX_ELEMENTS = 2 ** 48;

// ---------------------------------------------------------------------------------------------
// The allowlist

const STORAGE_DTYPES: readonly (readonly [string, DType])[] = [
  ['BFloat16Storage', 'BF16'],
  ['HalfStorage', 'F16'],
  ['FloatStorage', 'F32'],
];

const ALLOWLIST: ReadonlyMap<string, PickleLeaf> = new Map<string, PickleLeaf>([
  [globalKey('collections', 'OrderedDict'), new PickleCallable('collections.OrderedDict', orderedDict)],
  [
    globalKey('torch._utils', '_rebuild_tensor_v2'),
    new PickleCallable('torch._utils._rebuild_tensor_v2', rebuildTensorV2),
  ],
  [
    globalKey('torch._utils', '_rebuild_parameter'),
    new PickleCallable('torch._utils._rebuild_parameter', rebuildParameter),
  ],
  ...STORAGE_DTYPES.map(
    ([name, dtype]) => [globalKey('torch', name), new StorageType(`torch.${name}`, dtype)] as const,
  ),
]);

// '\n' cannot occur inside a GLOBAL line, so (module, name) pairs never collide.
function globalKey(module: string, name: string): string {
  return `${module}\n${name}`;
}

export function isAllowedGlobal(module: string, name: string): boolean {
  return ALLOWLIST.has(globalKey(module, name));
}

/** The names on the allowlist, `module.name`, for messages and docs. */
export function allowedGlobals(): string[] {
  return [...ALLOWLIST.keys()].map((k) => k.replace('\n', '.'));
}

export function forbiddenGlobalError(file: string, qualifiedName: string): InputError {
  return new InputError(
    `refusing to load ${file}: it needs the global ${printable(qualifiedName)}, which is not on the allowlist`,
  );
}

function resolveGlobal(module: string, name: string, file: string): PickleLeaf {
  const found = ALLOWLIST.get(globalKey(module, name));
  if (found === undefined) throw forbiddenGlobalError(file, `${module}.${name}`);
  return found;
}

/** Names from a hostile file go into one-line messages: escape control characters, cap the length. */
export function printable(text: string): string {
  const escaped = text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > 200 ? `${escaped.slice(0, 200)}...` : escaped;
}

function orderedDict(args: readonly PickleValue[], file: string): PickleValue {
  const out: PickleDict = new Map();
  if (args.length === 0) return out;
  const items = args.length === 1 ? sequenceItems(args[0]) : undefined;
  if (items === undefined)
    throw malformed(file, 'collections.OrderedDict takes no arguments or a list of pairs');
  for (const item of items) {
    const pair = sequenceItems(item);
    if (pair?.length !== 2) throw malformed(file, 'collections.OrderedDict takes a list of pairs');
    out.set(pair[0], pair[1]);
  }
  return out;
}

function rebuildTensorV2(args: readonly PickleValue[], file: string): PickleValue {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  if (args.length < 4 || args.length > 7) throw malformed(file, '_rebuild_tensor_v2 takes 6 or 7 arguments');
  const storage = args[0];
  if (!(storage instanceof PickledStorage)) throw malformed(file, '_rebuild_tensor_v2 needs a storage');
  const offset = indexValue(args[1], 'storage offset', file);
  const shape = indexTuple(args[2], 'size', file);
  const stride = indexTuple(args[3], 'stride', file);
  if (shape.length !== stride.length) throw malformed(file, 'tensor size and stride differ in length');
  let numel = 1;
  let last = offset;
  for (let i = 0; i < shape.length; i++) {
    numel *= shape[i];
    last += Math.max(shape[i] - 1, 0) * stride[i];
    if (numel > MAX_ELEMENTS || last > MAX_ELEMENTS) throw malformed(file, 'tensor is too large');
  }
  if (offset > storage.numel || (numel > 0 && last >= storage.numel)) {
    throw malformed(file, `a tensor view reaches past the end of storage ${storage.key}`);
  }
  if (numel > storage.numel) {
    throw malformed(
      file,
      `a tensor has more elements than storage ${storage.key} (broadcast views are not supported)`,
    );
  }
  return new PickledTensor(storage, offset, shape, stride);
}

function rebuildParameter(args: readonly PickleValue[], file: string): PickleValue {
  // (data, requires_grad, backward_hooks): a Parameter is its tensor here.
  if (args.length !== 3 || !(args[0] instanceof PickledTensor)) {
    throw malformed(file, '_rebuild_parameter takes (tensor, requires_grad, hooks)');
  }
  return args[0];
}

/** `("storage", StorageType, key, location, numel)` is the only persistent id torch.save writes. */
function persistentStorage(pid: PickleValue, file: string): PickledStorage {
  const items = pid instanceof PickleTuple ? pid.items : undefined;
  if (items?.length !== 5 || items[0] !== 'storage') {
    throw malformed(file, 'a persistent id is not ("storage", type, key, location, numel)');
  }
  const [, type, key, location, numel] = items;
  if (!(type instanceof StorageType)) throw malformed(file, 'a persistent id names no storage type');
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(key)) {
    throw malformed(file, 'a storage key is not a plain name');
  }
  if (typeof location !== 'string') throw malformed(file, 'a storage location is not a string');
  return new PickledStorage(key, type.dtype, indexValue(numel, 'storage size', file), location);
}

function sequenceItems(value: PickleValue): readonly PickleValue[] | undefined {
  if (Array.isArray(value)) return value;
  if (value instanceof PickleTuple) return value.items;
  return undefined;
}

function indexValue(value: PickleValue, what: string, file: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_ELEMENTS) {
    throw malformed(file, `${what} is not a non-negative integer`);
  }
  return value;
}

function indexTuple(value: PickleValue, what: string, file: string): number[] {
  const items = sequenceItems(value);
  if (items === undefined || items.length > MAX_DIMS) throw malformed(file, `tensor ${what} is not a tuple`);
  return items.map((v) => indexValue(v, `tensor ${what}`, file));
}

function malformed(file: string, why: string): InputError {
  return new InputError(`cannot read ${file}: malformed pickle: ${why}`);
}

// ---------------------------------------------------------------------------------------------
// Decoding opcodes into instructions (shared by the machine and the global scanner)

type SimpleKind =
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

type Instr =
  | { readonly k: 'proto' | 'get' | 'put'; readonly n: number }
  | { readonly k: 'push'; readonly v: PickleScalar }
  | { readonly k: 'text'; readonly v: string } // protocol-0 STRING/UNICODE: raw, not unescaped
  | { readonly k: 'global' | 'inst'; readonly module: string; readonly name: string }
  | { readonly k: 'tupleN'; readonly n: 0 | 1 | 2 | 3 }
  | { readonly k: SimpleKind };

type Op = Instr & { readonly code: number; readonly at: number };

const SIMPLE: ReadonlyMap<number, SimpleKind> = new Map<number, SimpleKind>([
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

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

class Decoder {
  pos: number;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly file: string,
    start = 0,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  next(): Op {
    const at = this.pos;
    const code = this.u8();
    return { ...this.decode(code, at), code, at };
  }

  private decode(code: number, at: number): Instr {
    const simple = SIMPLE.get(code);
    if (simple !== undefined) return { k: simple };
    switch (code) {
      case 0x80:
        return { k: 'proto', n: this.u8() };
      case 0x95:
        this.u64(); // FRAME: a length hint only, the bytes follow inline
        return { k: 'frame' };
      case 0x63: // c GLOBAL
        return { k: 'global', module: this.line(), name: this.line() };
      case 0x69: // i INST
        return { k: 'inst', module: this.line(), name: this.line() };
      case 0x50: // P PERSID (text)
        this.line();
        return { k: 'persidText' };
      case 0x85:
        return { k: 'tupleN', n: 1 };
      case 0x86:
        return { k: 'tupleN', n: 2 };
      case 0x87:
        return { k: 'tupleN', n: 3 };
      case 0x29: // )
        return { k: 'tupleN', n: 0 };
      case 0x4e: // N
        return { k: 'push', v: null };
      case 0x88:
        return { k: 'push', v: true };
      case 0x89:
        return { k: 'push', v: false };
      case 0x4a: // J BININT
        return { k: 'push', v: this.i32() };
      case 0x4b: // K BININT1
        return { k: 'push', v: this.u8() };
      case 0x4d: // M BININT2
        return { k: 'push', v: this.u16() };
      case 0x8a: // LONG1
        return { k: 'push', v: this.long(this.u8()) };
      case 0x8b: // LONG4
        return { k: 'push', v: this.long(this.i32()) };
      case 0x47: // G BINFLOAT
        return { k: 'push', v: this.f64() };
      case 0x58: // X BINUNICODE
        return { k: 'push', v: this.utf8(this.u32()) };
      case 0x8c: // SHORT_BINUNICODE
        return { k: 'push', v: this.utf8(this.u8()) };
      case 0x8d: // BINUNICODE8
        return { k: 'push', v: this.utf8(this.u64()) };
      case 0x42: // B BINBYTES
        return { k: 'push', v: this.bytes(this.u32()) };
      case 0x43: // C SHORT_BINBYTES
        return { k: 'push', v: this.bytes(this.u8()) };
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        return { k: 'push', v: this.bytes(this.u64()) };
      case 0x54: // T BINSTRING (Python 2 str)
        return { k: 'push', v: latin1.decode(this.bytes(this.i32())) };
      case 0x55: // U SHORT_BINSTRING
        return { k: 'push', v: latin1.decode(this.bytes(this.u8())) };
      case 0x49: // I INT (text), also protocol 0's booleans
        return { k: 'push', v: this.textInt(true) };
      case 0x4c: // L LONG (text)
        return { k: 'push', v: this.textInt(false) };
      case 0x46: // F FLOAT (text)
        return { k: 'push', v: this.textFloat() };
      case 0x53: // S STRING (text)
      case 0x56: // V UNICODE (text)
        return { k: 'text', v: this.line() };
      case 0x71: // q BINPUT
        return { k: 'put', n: this.u8() };
      case 0x72: // r LONG_BINPUT
        return { k: 'put', n: this.u32() };
      case 0x70: // p PUT (text)
        return { k: 'put', n: this.textIndex() };
      case 0x68: // h BINGET
        return { k: 'get', n: this.u8() };
      case 0x6a: // j LONG_BINGET
        return { k: 'get', n: this.u32() };
      case 0x67: // g GET (text)
        return { k: 'get', n: this.textIndex() };
      default:
        throw new InputError(
          `cannot read ${this.file}: unsupported pickle opcode 0x${code.toString(16).padStart(2, '0')} at byte ${at}`,
        );
    }
  }

  private need(n: number): void {
    if (n > this.buf.length - this.pos) {
      throw new InputError(
        `cannot read ${this.file}: pickle is truncated (needs ${n} bytes at byte ${this.pos})`,
      );
    }
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  private i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A 64-bit length; anything beyond the buffer fails in `bytes()` before allocating. */
  private u64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 2 ** 32 + lo;
  }

  private f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, false); // BINFLOAT is big-endian
    this.pos += 8;
    return v;
  }

  private bytes(n: number): Uint8Array {
    if (n < 0) throw new InputError(`cannot read ${this.file}: negative length at byte ${this.pos}`);
    this.need(n);
    // A copy, and a plain Uint8Array even when handed a Buffer (whose slice() would be a view).
    const out = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  private utf8(n: number): string {
    const raw = this.bytes(n);
    try {
      return utf8.decode(raw);
    } catch {
      throw new InputError(`cannot read ${this.file}: a pickled string is not valid UTF-8`);
    }
  }

  /** Little-endian two's complement, as LONG1 / LONG4 store it. */
  private long(n: number): number | bigint {
    if (n > MAX_LONG_BYTES)
      throw new InputError(`cannot read ${this.file}: integer of ${n} bytes is too long`);
    const raw = this.bytes(n);
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (n > 0 && raw[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private line(): string {
    const found = this.buf.subarray(this.pos, this.pos + MAX_LINE + 1).indexOf(0x0a);
    const end = found < 0 ? -1 : this.pos + found;
    if (end < 0) {
      throw new InputError(`cannot read ${this.file}: unterminated text argument at byte ${this.pos}`);
    }
    const text = this.utf8(end - this.pos);
    this.pos += 1;
    return text;
  }

  private textInt(allowBool: boolean): number | bigint | boolean {
    const text = this.line().replace(/L$/, '');
    if (allowBool && text === '01') return true;
    if (allowBool && text === '00') return false;
    if (!/^[-+]?\d{1,400}$/.test(text))
      throw new InputError(`cannot read ${this.file}: bad integer ${printable(text)}`);
    const v = BigInt(text);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private textFloat(): number {
    const text = this.line();
    const v = Number(text);
    if (text.trim() === '' || (Number.isNaN(v) && !/^[-+]?nan$/i.test(text))) {
      throw new InputError(`cannot read ${this.file}: bad float ${printable(text)}`);
    }
    return v;
  }

  private textIndex(): number {
    const v = this.textInt(false);
    if (typeof v !== 'number' || v < 0) throw new InputError(`cannot read ${this.file}: bad memo index`);
    return v;
  }
}

// ---------------------------------------------------------------------------------------------
// A stack with MARK fences, as CPython's unpickler keeps it

class FencedStack<T> {
  private readonly items: T[] = [];
  private readonly marks: number[] = [];

  constructor(private readonly file: string) {}

  push(v: T): void {
    if (this.items.length >= MAX_STACK) throw malformed(this.file, 'stack too deep');
    this.items.push(v);
  }

  pop(): T {
    if (this.items.length <= this.fence()) throw malformed(this.file, 'stack underflow');
    return this.items.pop() as T;
  }

  top(): T {
    if (this.items.length <= this.fence()) throw malformed(this.file, 'stack underflow');
    return this.items[this.items.length - 1];
  }

  mark(): void {
    if (this.marks.length >= MAX_MARKS) throw malformed(this.file, 'too many marks');
    this.marks.push(this.items.length);
  }

  /** Everything above the last MARK, which is removed. */
  popMark(): T[] {
    const m = this.marks.pop();
    if (m === undefined) throw malformed(this.file, 'no MARK on the stack');
    return this.items.splice(m);
  }

  /** POP removes the top item, or the MARK when nothing sits above it. */
  popAny(): void {
    if (this.items.length === this.fence() && this.marks.length > 0) this.marks.pop();
    else this.pop();
  }

  private fence(): number {
    return this.marks.length === 0 ? 0 : this.marks[this.marks.length - 1];
  }
}

// ---------------------------------------------------------------------------------------------
// The machine

/**
 * Unpickles one pickle (protocols 2-5, and the protocol-0 opcodes that need no code) into plain
 * values. Globals come only from the allowlist; persistent ids only as torch storages.
 */
export function unpickle(bytes: Uint8Array, file: string): PickleValue {
  return new Machine(bytes, file).run();
}

class Machine {
  private readonly stack: FencedStack<PickleValue>;
  private readonly memo = new Map<number, PickleValue>();
  private readonly decoder: Decoder;

  constructor(
    bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.stack = new FencedStack(file);
    this.decoder = new Decoder(bytes, file);
  }

  run(): PickleValue {
    for (;;) {
      const op = this.decoder.next();
      if (op.k === 'stop') return this.stack.pop();
      this.step(op);
    }
  }

  private step(op: Op): void {
    const s = this.stack;
    switch (op.k) {
      case 'proto':
        if (op.n > 5) throw malformed(this.file, `unsupported pickle protocol ${op.n}`);
        return;
      case 'frame':
        return;
      case 'mark':
        s.mark();
        return;
      case 'pop':
        s.popAny();
        return;
      case 'popMark':
        s.popMark();
        return;
      case 'dup':
        s.push(s.top());
        return;
      case 'push':
        s.push(op.v);
        return;
      case 'global':
        s.push(resolveGlobal(op.module, op.name, this.file));
        return;
      case 'stackGlobal': {
        const name = s.pop();
        const module = s.pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw malformed(this.file, 'STACK_GLOBAL needs two strings');
        }
        s.push(resolveGlobal(module, name, this.file));
        return;
      }
      case 'inst': {
        const fn = resolveGlobal(op.module, op.name, this.file);
        s.push(this.call(fn, s.popMark()));
        return;
      }
      case 'obj': {
        const [fn, ...args] = s.popMark();
        if (fn === undefined) throw malformed(this.file, 'OBJ with nothing to build');
        s.push(this.call(fn, args));
        return;
      }
      case 'reduce': {
        const args = s.pop();
        const fn = s.pop();
        if (!(args instanceof PickleTuple)) throw malformed(this.file, 'REDUCE arguments are not a tuple');
        s.push(this.call(fn, args.items));
        return;
      }
      case 'newobj': {
        const args = s.pop();
        const cls = s.pop();
        if (!(args instanceof PickleTuple)) throw malformed(this.file, 'NEWOBJ arguments are not a tuple');
        s.push(this.call(cls, args.items));
        return;
      }
      case 'newobjEx': {
        const kwargs = s.pop();
        const args = s.pop();
        const cls = s.pop();
        if (!(args instanceof PickleTuple) || !(kwargs instanceof Map) || kwargs.size > 0) {
          throw malformed(this.file, 'NEWOBJ_EX with keyword arguments is not supported');
        }
        s.push(this.call(cls, args.items));
        return;
      }
      case 'build': {
        const state = s.pop();
        s.top();
        if (state !== null) throw malformed(this.file, 'BUILD with object state is not supported');
        return;
      }
      case 'persid':
        s.push(persistentStorage(s.pop(), this.file));
        return;
      case 'persidText':
      case 'text':
      case 'emptySet':
      case 'frozenset':
      case 'additems':
        throw new InputError(
          `cannot read ${this.file}: unsupported pickle opcode 0x${op.code.toString(16)} at byte ${op.at}`,
        );
      case 'emptyDict':
        s.push(new Map());
        return;
      case 'emptyList':
        s.push([]);
        return;
      case 'tupleN': {
        const items: PickleValue[] = [];
        for (let i = 0; i < op.n; i++) items.unshift(s.pop());
        s.push(new PickleTuple(items));
        return;
      }
      case 'tuple':
        s.push(new PickleTuple(s.popMark()));
        return;
      case 'list':
        s.push(s.popMark());
        return;
      case 'dict': {
        const dict: PickleDict = new Map();
        this.setItems(dict, s.popMark());
        s.push(dict);
        return;
      }
      case 'setitem': {
        const v = s.pop();
        const k = s.pop();
        this.setItems(s.top(), [k, v]);
        return;
      }
      case 'setitems': {
        const items = s.popMark();
        this.setItems(s.top(), items);
        return;
      }
      case 'append': {
        const v = s.pop();
        this.list(s.top()).push(v);
        return;
      }
      case 'appends': {
        const items = s.popMark();
        const list = this.list(s.top());
        for (const v of items) list.push(v);
        return;
      }
      case 'put':
        this.put(op.n, s.top());
        return;
      case 'memoize':
        this.put(this.memo.size, s.top());
        return;
      case 'get': {
        const v = this.memo.get(op.n);
        if (v === undefined) throw malformed(this.file, `memo entry ${op.n} was never stored`);
        s.push(v);
        return;
      }
    }
  }

  private call(fn: PickleValue, args: readonly PickleValue[]): PickleValue {
    if (!(fn instanceof PickleCallable)) throw malformed(this.file, `${describe(fn)} is not callable`);
    return fn.call(args, this.file);
  }

  private setItems(target: PickleValue, items: readonly PickleValue[]): void {
    if (!(target instanceof Map)) throw malformed(this.file, `cannot set items on ${describe(target)}`);
    if (items.length % 2 !== 0) throw malformed(this.file, 'SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  }

  private list(target: PickleValue): PickleValue[] {
    if (!Array.isArray(target)) throw malformed(this.file, `cannot append to ${describe(target)}`);
    return target;
  }

  private put(index: number, value: PickleValue): void {
    if (this.memo.size >= MAX_MEMO && !this.memo.has(index)) throw malformed(this.file, 'memo too large');
    this.memo.set(index, value);
  }
}

function describe(v: PickleValue): string {
  if (v instanceof PickleCallable || v instanceof StorageType) return v.name;
  if (v instanceof PickledStorage) return 'a storage';
  if (v instanceof PickledTensor) return 'a tensor';
  if (v instanceof PickleTuple) return 'a tuple';
  if (v instanceof Map) return 'a dict';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  return v === null ? 'None' : typeof v;
}

// ---------------------------------------------------------------------------------------------
// Listing globals without running anything

/** What the scanner knows of a stack slot: a string's value, or nothing. */
type Token = string | undefined;

export interface PickleScan {
  /** `module.name` of every GLOBAL / STACK_GLOBAL / INST, first occurrence order, no repeats. */
  readonly globals: readonly string[];
  /** Those not on the allowlist (a STACK_GLOBAL whose name cannot be known counts as one). */
  readonly forbidden: readonly string[];
  /** Offset just past the STOP opcode. */
  readonly end: number;
}

/**
 * Walks the opcodes of the pickle starting at `start`, up to its STOP, tracking only which stack
 * slots hold strings so STACK_GLOBAL can be named. Nothing is built and nothing is called.
 */
export function scanPickle(bytes: Uint8Array, file: string, start = 0): PickleScan {
  const decoder = new Decoder(bytes, file, start);
  const stack = new FencedStack<Token>(file);
  const memo = new Map<number, Token>();
  const globals = new Map<string, boolean>(); // name -> allowed
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
          forbidden: [...globals].filter(([, allowed]) => !allowed).map(([name]) => name),
          end: decoder.pos,
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
