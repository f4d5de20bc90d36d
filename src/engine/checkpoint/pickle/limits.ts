// Caps on what one pickle may make the reader do, so a hostile file fails fast instead of
// exhausting memory.

export const MAX_STACK = 1_000_000;
export const MAX_MARKS = 100_000;
export const MAX_MEMO = 1_000_000;
export const MAX_LONG_BYTES = 1024;
export const MAX_LINE = 4096;
export const MAX_DIMS = 16;
/** Element counts and offsets above this are not tensors anyone saves (and keep arithmetic exact). */
export const MAX_ELEMENTS = 2 ** 48;
/** Opcodes in one pickle: a state dict of MAX_TENSORS tensors takes a few million. */
export const MAX_OPS = 10_000_000;
/** Tensors one file may build: far more than any checkpoint or list of weight diffs holds. */
export const MAX_TENSORS = 100_000;
