// What yauzl reads a zip through: one open regular file, its small reads (46 bytes and a name
// per central-directory record) served from a window read in large blocks, so that listing an
// archive costs a few reads, not two per entry. Each read answers on a later tick, so a long
// directory never deepens the stack. Entry data is streamed by positional reads of the same file.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';

const WINDOW_BYTES = 4 * 1024 * 1024;
const STREAM_CHUNK_BYTES = 1024 * 1024;

export class WindowedFileReader extends yauzl.RandomAccessReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly handle: FileHandle) {
    super();
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null, bytesRead?: number) => void,
  ): void {
    const done = (err: Error | null, bytesRead = 0) => process.nextTick(callback, err, bytesRead);
    if (length > WINDOW_BYTES) {
      this.handle.read(buffer, offset, length, position).then(
        ({ bytesRead }) => done(null, bytesRead),
        (err: Error) => done(err),
      );
      return;
    }
    const from = position - this.windowStart;
    if (from >= 0 && from + length <= this.window.length) {
      this.window.copy(buffer, offset, from, from + length);
      done(null, length);
      return;
    }
    const block = Buffer.alloc(WINDOW_BYTES);
    this.handle.read(block, 0, WINDOW_BYTES, position).then(
      ({ bytesRead }) => {
        this.window = block.subarray(0, bytesRead);
        this.windowStart = position;
        done(null, this.window.copy(buffer, offset, 0, length));
      },
      (err: Error) => done(err),
    );
  }

  /** Bytes [start, end) as a stream of positional reads; destroying it never closes the file. */
  override _readStreamForRange(start: number, end: number): Readable {
    const handle = this.handle;
    let at = start;
    return new Readable({
      highWaterMark: STREAM_CHUNK_BYTES,
      read(this: Readable) {
        if (at >= end) {
          this.push(null);
          return;
        }
        const chunk = Buffer.alloc(Math.min(STREAM_CHUNK_BYTES, end - at));
        handle.read(chunk, 0, chunk.length, at).then(
          ({ bytesRead }) => {
            if (bytesRead === 0) return this.destroy(new Error('unexpected end of file'));
            at += bytesRead;
            this.push(chunk.subarray(0, bytesRead));
          },
          (err: Error) => this.destroy(err),
        );
      },
    });
  }

  override close(callback: (err: Error | null) => void): void {
    this.handle.close().then(
      () => callback(null),
      (err: Error) => callback(err),
    );
  }
}
