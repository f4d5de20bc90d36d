// A stack with MARK fences, as CPython's unpickler keeps it.

import { malformed } from './errors';
import { MAX_MARKS, MAX_STACK } from './limits';

export class FencedStack<T> {
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
