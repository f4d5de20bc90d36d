// Measuring helpers for the benchmarks: memory from /proc, a sampler for peaks during a phase,
// the process tree, and the machine's copy bandwidth.
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Memory figures of one process from /proc/PID/status, in bytes. */
export interface ProcMemory {
  /** Resident set size now. */
  readonly rss: number;
  /** Peak resident set size (VmHWM) since the process started. */
  readonly hwm: number;
  /** Anonymous resident memory (heap, malloc, ORT's buffers). */
  readonly anon: number;
  /** Resident pages of mapped files (mmapped external data would show here). */
  readonly file: number;
  readonly threads: number;
}

const KB = 1024;

export function procMemory(pid: number | 'self' = 'self'): ProcMemory {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) * (name === 'Threads' ? 1 : KB) : 0;
  };
  return {
    rss: field('VmRSS'),
    hwm: field('VmHWM'),
    anon: field('RssAnon'),
    file: field('RssFile'),
    threads: field('Threads'),
  };
}

/** Direct and indirect children of a process, from /proc/PID/stat. */
export function descendants(root: number = process.pid): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ..." — comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** Peak RSS of this process plus every descendant's own peak (a process tree's upper bound). */
export function treePeak(): { self: number; children: number; childCount: number } {
  const kids = descendants();
  let children = 0;
  for (const pid of kids) {
    try {
      children += procMemory(pid).hwm;
    } catch {
      // Gone.
    }
  }
  return { self: procMemory().hwm, children, childCount: kids.length };
}

export interface PhasePeak {
  readonly samples: number;
  readonly maxRss: number;
  readonly maxAnon: number;
  readonly maxFile: number;
  /** ms after the start at which RSS peaked. */
  readonly atMs: number;
}

/** Samples /proc/self/status on a timer while the main thread waits (the worker does the work). */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = performance.now();
  private samples = 0;
  private maxRss = 0;
  private maxAnon = 0;
  private maxFile = 0;
  private atMs = 0;
  readonly timeline: { ms: number; rss: number; anon: number; file: number }[] = [];

  constructor(private readonly everyMs = 25) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  stop(): PhasePeak {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return {
      samples: this.samples,
      maxRss: this.maxRss,
      maxAnon: this.maxAnon,
      maxFile: this.maxFile,
      atMs: this.atMs,
    };
  }

  private sample(): void {
    const m = procMemory();
    const ms = performance.now() - this.t0;
    this.samples++;
    if (m.rss > this.maxRss) {
      this.maxRss = m.rss;
      this.atMs = ms;
    }
    this.maxAnon = Math.max(this.maxAnon, m.anon);
    this.maxFile = Math.max(this.maxFile, m.file);
    const last = this.timeline[this.timeline.length - 1];
    // Keep the timeline short: a point every 250 ms, or when RSS moved by more than 64 MiB.
    if (!last || ms - last.ms >= 250 || Math.abs(m.rss - last.rss) > 64 * 1024 * 1024) {
      this.timeline.push({ ms: Math.round(ms), rss: m.rss, anon: m.anon, file: m.file });
    }
  }
}

export interface CopyBandwidth {
  /** Bytes copied per run. */
  readonly bytes: number;
  readonly bestMs: number;
  readonly runsMs: readonly number[];
  /** Bytes read + bytes written per second (STREAM's "Copy" convention: 2 × bytes / time). */
  readonly readWriteBytesPerS: number;
}

/** One thread: `dst.set(src)` (a memcpy) of `bytes`, best of `runs`; pages touched beforehand. */
export function copyBandwidth(bytes = 1 << 30, runs = 5): CopyBandwidth {
  const src = new Float64Array(bytes / 8);
  const dst = new Float64Array(bytes / 8);
  for (let i = 0; i < src.length; i += 512) src[i] = i;
  dst.fill(1);
  const runsMs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    dst.set(src);
    runsMs.push(performance.now() - t0);
  }
  if (dst[512] !== 512) throw new Error('copy check failed');
  const bestMs = Math.min(...runsMs);
  return { bytes, bestMs, runsMs, readWriteBytesPerS: (2 * bytes) / (bestMs / 1000) };
}

const COPY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { bytes, flag } = workerData;
const src = new Float64Array(bytes / 8), dst = new Float64Array(bytes / 8);
for (let i = 0; i < src.length; i += 512) src[i] = i;
dst.fill(1);
const go = new Int32Array(flag);
parentPort.postMessage({ ready: true });
let round = 0;
for (;;) {
  Atomics.wait(go, 0, round);
  round = Atomics.load(go, 0);
  if (round < 0) break;
  const t0 = performance.timeOrigin + performance.now();
  dst.set(src);
  const t1 = performance.timeOrigin + performance.now();
  parentPort.postMessage({ round, t0, t1 });
}
`;

/** `threads` threads each copying `bytes / threads` at once: the wall time of the slowest, best of runs. */
export async function parallelCopyBandwidth(threads = 2, bytes = 1 << 30, runs = 5): Promise<CopyBandwidth> {
  const per = Math.floor(bytes / threads / 4096) * 4096;
  const flag = new SharedArrayBuffer(4);
  const go = new Int32Array(flag);
  const workers = Array.from(
    { length: threads },
    () => new Worker(COPY_WORKER, { eval: true, workerData: { bytes: per, flag } }),
  );
  const messages = workers.map((w) => {
    const queue: { round?: number; t0?: number; t1?: number; ready?: boolean }[] = [];
    const waiters: ((m: (typeof queue)[number]) => void)[] = [];
    w.on('message', (m) => {
      const waiter = waiters.shift();
      if (waiter) waiter(m);
      else queue.push(m);
    });
    return () =>
      new Promise<(typeof queue)[number]>((resolve) => {
        const m = queue.shift();
        if (m) resolve(m);
        else waiters.push(resolve);
      });
  });
  try {
    await Promise.all(messages.map((next) => next()));
    const runsMs: number[] = [];
    for (let r = 1; r <= runs; r++) {
      Atomics.store(go, 0, r);
      Atomics.notify(go, 0);
      const done = await Promise.all(messages.map((next) => next()));
      const start = Math.min(...done.map((d) => d.t0 as number));
      const end = Math.max(...done.map((d) => d.t1 as number));
      runsMs.push(end - start);
    }
    Atomics.store(go, 0, -1);
    Atomics.notify(go, 0);
    const bestMs = Math.min(...runsMs);
    const total = per * threads;
    return { bytes: total, bestMs, runsMs, readWriteBytesPerS: (2 * total) / (bestMs / 1000) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const fmtMiB = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
export const fmtGB = (b: number) => `${(b / 1e9).toFixed(2)} GB`;

interface CpuSnapshot {
  readonly at: number;
  /** Busy clock ticks of all CPUs (user, nice, system, irq, softirq, steal). */
  readonly busy: number;
  /** Clock ticks this process used (all its threads), in user and kernel mode. */
  readonly user: number;
  readonly sys: number;
}

function cpuSnapshot(): CpuSnapshot {
  const all = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = all;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of /proc/PID/stat (utime, stime); `fields` starts at field 3.
  return {
    at: performance.now(),
    busy: user + nice + system + irq + softirq + (steal ?? 0),
    user: Number(fields[11]),
    sys: Number(fields[12]),
  };
}

export interface CpuShare {
  readonly wallMs: number;
  /** CPU this process used, in cores (1.0 = one core busy all the time). */
  readonly selfCores: number;
  /** The part of selfCores spent in the kernel (page faults, file reads, mmap). */
  readonly selfSysCores: number;
  /** CPU every other process on the machine used meanwhile, in cores: contention that skews timings. */
  readonly otherCores: number;
}

/** Measures this process's and everyone else's CPU use over a phase (from /proc/stat). */
export class CpuMeter {
  private readonly start = cpuSnapshot();

  stop(): CpuShare {
    const end = cpuSnapshot();
    const ticksPerMs = 100 / 1000;
    const wallMs = end.at - this.start.at;
    const cores = (ticks: number) => ticks / ticksPerMs / wallMs;
    const selfCores = cores(end.user - this.start.user + end.sys - this.start.sys);
    const allCores = cores(end.busy - this.start.busy);
    return {
      wallMs,
      selfCores,
      selfSysCores: cores(end.sys - this.start.sys),
      otherCores: Math.max(0, allCores - selfCores),
    };
  }
}
