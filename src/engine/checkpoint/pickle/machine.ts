// The pickle machine: runs decoded instructions into plain values. Globals resolve only through the
// allowlist, persistent ids only as torch storages, so nothing a file names can run code.

import { InputError } from '../types';
import { resolveGlobal } from './allowlist';
import { Decoder } from './decoder';
import { malformed } from './errors';
import { MAX_MEMO, MAX_TENSORS } from './limits';
import type { Op } from './opcodes';
import { persistentStorage } from './rebuild';
import { FencedStack } from './stack';
import {
  PickleCallable,
  type PickleDict,
  PickledStorage,
  PickledTensor,
  PickleTuple,
  type PickleValue,
  StorageType,
} from './values';

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
  private tensors = 0;

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
    const value = fn.call(args, this.file);
    if (value instanceof PickledTensor && ++this.tensors > MAX_TENSORS) {
      throw new InputError(`cannot read ${this.file}: it builds more than ${MAX_TENSORS} tensors`);
    }
    return value;
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
