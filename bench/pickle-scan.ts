// Pickle-scan benchmark: a workspace of 2,000 files (300 torch files, a few of them hostile, the
// rest Python and text) scanned as the extension scans it, in its worker thread, beside the same
// scan on the calling thread, side by side in one run. Reported: files per second and the calling
// thread's event-loop delay (what typing in the extension host would feel), never asserted.
//
//   npm run bench:pickle-scan        env: DIT_BENCH_FILES (2000), DIT_BENCH_TORCH (300)

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describeTorchFile } from '../src/engine/checkpoint/torch-layouts';
import { PickleScanClient } from '../src/extension/pickles/scan-client';

const FILES = Number(process.env.DIT_BENCH_FILES ?? 2000);
const TORCH = Number(process.env.DIT_BENCH_TORCH ?? 300);
const FIXTURES = resolve(__dirname, '../../shared/fixtures/torch-pickle');
const SOURCES = ['weight-diff-000.pt', 'dit-adapter.pt', 'evil-system.pt', 'evil-eval.pt', 'evil-legacy.bin'];

function makeWorkspace(): { root: string; torch: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'dit-bench-scan-'));
  const torch: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, `pkg${i % 40}`);
    mkdirSync(dir, { recursive: true });
    if (i < TORCH) {
      const source = SOURCES[i % SOURCES.length];
      const file = join(dir, `ckpt-${i}${source.endsWith('.bin') ? '.bin' : '.pt'}`);
      copyFileSync(join(FIXTURES, source), file);
      torch.push(file);
    } else writeFileSync(join(dir, `module_${i}.py`), `import torch\nmodel = torch.load("ckpt-${i}.pt")\n`);
  }
  return { root, torch };
}

async function measure(
  label: string,
  scan: (file: string) => Promise<readonly string[]>,
  files: readonly string[],
) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const t0 = performance.now();
  let unsafe = 0;
  for (const file of files) if ((await scan(file)).length > 0) unsafe++;
  const seconds = (performance.now() - t0) / 1000;
  delay.disable();
  const ms = (ns: number) => ns / 1e6;
  const row = {
    label,
    files: files.length,
    unsafe,
    seconds,
    perSecond: files.length / seconds,
    delayP99Ms: ms(delay.percentile(99)),
    delayMaxMs: ms(delay.max),
  };
  console.log(
    `${label.padEnd(14)} ${row.files} files (${unsafe} unsafe) in ${seconds.toFixed(2)} s, ${row.perSecond.toFixed(0)}/s; event-loop delay p99 ${row.delayP99Ms.toFixed(1)} ms, max ${row.delayMaxMs.toFixed(1)} ms`,
  );
  return row;
}

async function main(): Promise<void> {
  const { root, torch } = makeWorkspace();
  console.log(`workspace: ${FILES} files, ${torch.length} torch files (${SOURCES.join(', ')} in turn)`);
  const client = new PickleScanClient(resolve(__dirname));
  try {
    // Warm both paths once (the worker's start, the reader's first run), then measure.
    await client.scan(torch[0]);
    await describeTorchFile(torch[1]);
    // Each path reads its own copy of the list, so the description memory of one cannot help the other.
    const copies = torch.map((f) => `${f}.copy`);
    for (const [i, f] of torch.entries()) copyFileSync(f, copies[i]);
    const worker = await measure('worker thread', async (f) => (await client.scan(f)).forbidden, torch);
    const inline = await measure(
      'same thread',
      async (f) => (await describeTorchFile(f)).forbiddenGlobals,
      copies,
    );
    console.log(
      `worker vs same thread: event-loop delay max ${(inline.delayMaxMs / worker.delayMaxMs).toFixed(1)}× lower, p99 ${(inline.delayP99Ms / worker.delayP99Ms).toFixed(1)}× lower; throughput ${(worker.perSecond / inline.perSecond).toFixed(2)}×`,
    );
  } finally {
    client.dispose();
    rmSync(root, { recursive: true, force: true });
  }
}

void main();
