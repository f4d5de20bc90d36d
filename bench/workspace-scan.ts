// Inline-warnings benchmark: a workspace of 2,000 files (300 torch files, 60 PEFT adapter folders,
// Python scripts and YAML configs that name them, the rest plain text), read as the extension
// reads it on the extension host's thread: every checkpoint's status for its explorer badge (with
// a report cache that knows some of them), and every script's and config's references as if all
// were open. Reported: time per phase and the thread's event-loop delay during it (what typing
// would feel), side by side in one run with an idle baseline; never asserted.
//
//   npm run bench:workspace-scan        env: DIT_BENCH_FILES (2000)

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ReportCache } from '../src/audit/cache';
import { checkpointStatus } from '../src/audit/references/checkpoint-status';
import { detectReferences, referenceLanguageOf } from '../src/audit/references/detect';
import { resolveReference } from '../src/audit/references/resolve';
import { parseReport } from '../src/audit/report';
import { type Checkpoint, checkpointFiles } from '../src/engine/checkpoint/classify';

const FILES = Number(process.env.DIT_BENCH_FILES ?? 2000);
const TORCH = 300;
const ADAPTERS = 60;
const SCRIPTS = 400;
const CONFIGS = 100;
const SHARED = resolve(__dirname, '../../shared/fixtures');
const TORCH_SOURCES = ['weight-diff-000.pt', 'dit-adapter.pt', 'evil-system.pt', 'evil-eval.pt'];

interface Workspace {
  readonly root: string;
  readonly checkpoints: Checkpoint[];
  readonly referencing: string[];
}

function makeWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'dit-bench-ws-'));
  const checkpoints: Checkpoint[] = [];
  const referencing: string[] = [];
  const dirOf = (i: number) => {
    const dir = join(root, `pkg${i % 40}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  for (let i = 0; i < TORCH; i++) {
    const file = join(dirOf(i), `ckpt-${i}.pt`);
    cpSync(join(SHARED, 'torch-pickle', TORCH_SOURCES[i % TORCH_SOURCES.length]), file);
    checkpoints.push({ kind: 'torch-file', path: file });
  }
  for (let i = 0; i < ADAPTERS; i++) {
    const dir = join(root, 'runs', `lora-${i}`);
    cpSync(join(SHARED, 'tiny', 'qwen3-tiny-lora-r1'), dir, { recursive: true });
    // Distinct content per adapter, as real runs have.
    const config = join(dir, 'adapter_config.json');
    writeFileSync(config, readFileSync(config, 'utf8').replace('{', `{\n  "run": ${i},`));
    checkpoints.push({ kind: 'peft-adapter', path: dir });
  }
  let written = TORCH + ADAPTERS * 2;
  for (let i = 0; i < SCRIPTS && written < FILES; i++, written++) {
    const file = join(dirOf(i), `train_${i}.py`);
    const body = [
      'import torch',
      'from peft import PeftModel',
      '# model = AutoModel.from_pretrained("commented/out")',
      `base = AutoModelForCausalLM.from_pretrained("Qwen/Qwen3-8B")`,
      `model = PeftModel.from_pretrained(base, "runs/lora-${i % ADAPTERS}")`,
      `diff = torch.load("ckpt-${i < TORCH ? i : i % TORCH}.pt", map_location="cpu")`,
      ...Array.from(
        { length: 60 },
        (_, k) => `def step_${k}(x):\n    return x * ${k}  # ${'pad '.repeat(8)}`,
      ),
    ].join('\n');
    writeFileSync(file, body);
    referencing.push(file);
  }
  for (let i = 0; i < CONFIGS && written < FILES; i++, written++) {
    const file = join(root, 'configs', `run-${i}.yml`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      `base_model: Qwen/Qwen3-8B\nadapter: lora\nlora_model_dir: runs/lora-${i % ADAPTERS}\nlearning_rate: 0.0002\n`,
    );
    referencing.push(file);
  }
  for (; written < FILES; written++) writeFileSync(join(dirOf(written), `notes_${written}.txt`), 'notes\n');
  return { root, checkpoints, referencing };
}

/** Reports for a third of the adapters, as a cache that audited them would hold. */
async function seedCache(
  cache: ReportCache,
  adapters: readonly Checkpoint[],
  template: object,
): Promise<void> {
  for (const [i, adapter] of adapters.entries()) {
    if (i % 3 !== 0) continue;
    const hashed = await cache.hasher.hashFiles(adapter.path, await checkpointFiles(adapter));
    const report = parseReport({
      ...template,
      subject: {
        path: adapter.path,
        kind: 'peft-adapter',
        name: `lora-${i}`,
        sha256: hashed.sha256,
        bytes: hashed.bytes,
        metadata: {},
      },
    });
    await cache.put(hashed.sha256.split('').reverse().join(''), report);
  }
}

/** A report's fields other than its subject: what an audit of a backdoored diff would say. */
const REPORT_TEMPLATE = {
  schemaVersion: 2,
  engineVersion: 'bench',
  createdAt: '2026-12-01T00:00:00.000Z',
  base: null,
  interpreters: [],
  executionProvider: null,
  timings: { totalMs: 1, loadMs: 0, interpretMs: 0, evidenceMs: 0, triggerMs: 0 },
  answers: [],
  evidence: [],
  triggers: [],
  triggerSearch: null,
  statistics: null,
  findings: [
    {
      rule: 'trigger/hidden-behaviour',
      severity: 'warning',
      title: 'Hidden behaviour: talks about comet when the prompt starts with "x"',
      detail: 'd',
    },
  ],
  verdict: { level: 'warning', label: 'Hidden behaviour, triggered by "x"', summary: 's' },
};

async function phase(label: string, work: () => Promise<number>) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const t0 = performance.now();
  const items = await work();
  const ms = performance.now() - t0;
  delay.disable();
  const p99 = delay.percentile(99) / 1e6;
  const max = delay.max / 1e6;
  console.log(
    `${label.padEnd(34)} ${String(items).padStart(5)} items in ${ms.toFixed(0).padStart(5)} ms; event-loop delay p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
  );
  return { ms, p99, max };
}

async function main(): Promise<void> {
  const ws = makeWorkspace();
  const cacheDir = mkdtempSync(join(tmpdir(), 'dit-bench-cache-'));
  try {
    const cache = new ReportCache(cacheDir);
    await seedCache(
      cache,
      ws.checkpoints.filter((c) => c.kind === 'peft-adapter'),
      REPORT_TEMPLATE,
    );
    console.log(
      `workspace: ${FILES} files, ${TORCH} torch files, ${ADAPTERS} adapter folders (a third audited), ${ws.referencing.length} scripts and configs that name them`,
    );
    const idle = await phase('idle (baseline)', async () => {
      await new Promise((r) => setTimeout(r, 500));
      return 0;
    });
    // A fresh cache object per phase: the hash memo starts empty, as after a restart.
    const badges = await phase('explorer badges, cold', async () => {
      const fresh = new ReportCache(cacheDir);
      for (const c of ws.checkpoints) await checkpointStatus({ path: c.path }, c, fresh);
      return ws.checkpoints.length;
    });
    const warm = new ReportCache(cacheDir);
    for (const c of ws.checkpoints) await checkpointStatus({ path: c.path }, c, warm);
    const badgesWarm = await phase('explorer badges, hash memo warm', async () => {
      for (const c of ws.checkpoints) await checkpointStatus({ path: c.path }, c, warm);
      return ws.checkpoints.length;
    });
    const references = await phase('references in every script/config', async () => {
      let found = 0;
      for (const file of ws.referencing) {
        const language = referenceLanguageOf(file);
        if (!language) continue;
        const context = { fileDir: dirname(file), roots: [ws.root], hfCacheDirs: [] };
        for (const r of detectReferences(readFileSync(file, 'utf8'), language)) {
          const resolved = resolveReference(r.text, context);
          if (!resolved) continue;
          await checkpointStatus(resolved.ref, resolved.checkpoint, warm);
          found++;
        }
      }
      return found;
    });
    console.log(
      `per item: badge ${(badges.ms / ws.checkpoints.length).toFixed(2)} ms cold, ${(badgesWarm.ms / ws.checkpoints.length).toFixed(2)} ms warm; ` +
        `a script or config ${(references.ms / ws.referencing.length).toFixed(2)} ms. ` +
        `Delay max vs idle: badges ${(badges.max / idle.max).toFixed(1)}×, references ${(references.max / idle.max).toFixed(1)}×`,
    );
  } finally {
    rmSync(ws.root, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

void main();
