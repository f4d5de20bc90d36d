// Decodes pickle opcodes, with their arguments, into instructions; every read is bounds-checked.

import { InputError } from '../types';
import { printable } from './errors';
import { MAX_LINE, MAX_LONG_BYTES, MAX_OPS } from './limits';
import { type Instr, type Op, SIMPLE } from './opcodes';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

export class Decoder {
  pos: number;
  private readonly view: DataView;
  private ops = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly file: string,
    start = 0,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get opsRead(): number {
    return this.ops;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  next(): Op {
    if (++this.ops > MAX_OPS) {
      throw new InputError(`cannot read ${this.file}: its pickle runs past ${MAX_OPS} opcodes`);
    }
    const at = this.pos;
    const code = this.u8();
    // Set on the fresh object decode() made: a spread per opcode cost ~1 µs (20 s on a large pickle).
    const op = this.decode(code, at) as { code: number; at: number } & Instr;
    op.code = code;
    op.at = at;
    return op;
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
