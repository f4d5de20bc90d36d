// A small pickle assembler for hostile test data: each method appends one opcode with its
// argument, as CPython's pickletools names them, so a test spells a malicious pickle opcode by
// opcode instead of shipping an opaque binary.
const text = (s: string) => [...Buffer.from(s, 'utf8')];
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

export class PickleWriter {
  private readonly out: number[] = [];

  private op(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }

  proto(n: number) {
    return this.op(0x80, n);
  }
  frame(length: number) {
    return this.op(0x95, ...u32(length), 0, 0, 0, 0);
  }
  global(module: string, name: string) {
    return this.op(0x63, ...text(`${module}\n${name}\n`));
  }
  inst(module: string, name: string) {
    return this.op(0x69, ...text(`${module}\n${name}\n`));
  }
  stackGlobal() {
    return this.op(0x93);
  }
  mark() {
    return this.op(0x28);
  }
  stop() {
    return this.op(0x2e);
  }
  pop() {
    return this.op(0x30);
  }
  tuple() {
    return this.op(0x74);
  }
  tuple1() {
    return this.op(0x85);
  }
  emptyTuple() {
    return this.op(0x29);
  }
  reduce() {
    return this.op(0x52);
  }
  newobj() {
    return this.op(0x81);
  }
  build() {
    return this.op(0x62);
  }
  memoize() {
    return this.op(0x94);
  }
  binput(n: number) {
    return this.op(0x71, n);
  }
  binget(n: number) {
    return this.op(0x68, n);
  }
  /** Protocol-0 PUT / GET: the index as a text line. */
  put(n: number) {
    return this.op(0x70, ...text(`${n}\n`));
  }
  get(n: number) {
    return this.op(0x67, ...text(`${n}\n`));
  }
  /** Protocol-0 STRING (quoted) and UNICODE (raw line). */
  string(s: string) {
    return this.op(0x53, ...text(`'${s}'\n`));
  }
  unicode(s: string) {
    return this.op(0x56, ...text(`${s}\n`));
  }
  binunicode(s: string) {
    const b = text(s);
    return this.op(0x58, ...u32(b.length), ...b);
  }
  shortBinunicode(s: string) {
    const b = text(s);
    return this.op(0x8c, b.length, ...b);
  }
  binint1(n: number) {
    return this.op(0x4b, n);
  }
  binint(n: number) {
    return this.op(0x4a, ...u32(n));
  }
  none() {
    return this.op(0x4e);
  }
  emptyList() {
    return this.op(0x5d);
  }
  emptyDict() {
    return this.op(0x7d);
  }
  append() {
    return this.op(0x61);
  }
  setitem() {
    return this.op(0x73);
  }
  list() {
    return this.op(0x6c);
  }
  /** Raw bytes, for truncations and junk. */
  raw(bytes: Uint8Array | string) {
    return this.op(...(typeof bytes === 'string' ? text(bytes) : [...bytes]));
  }

  bytes(): Buffer {
    return Buffer.from(this.out);
  }
}

export const pickle = () => new PickleWriter();
