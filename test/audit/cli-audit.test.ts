// dit-audit audit as a user runs it: spawned, reading stdout, stderr and the exit code.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AuditReport, parseReport, TOPIC_QUESTION } from '../../src/audit';
import { cudaProviderInstalled } from '../../src/engine/runtime/cuda-provider';
import { webgpuMayWork } from '../../src/engine/runtime/ort-session';
import { runCli, tempDir } from '../engine/helpers';
import { CLI, REPO, TINY, TORCH_PICKLE } from '../engine/paths';
import { makeTinyWorld, type TinyWorld } from './helpers';

function withoutRunFacts(report: AuditReport): unknown {
  return { ...report, createdAt: null, timings: null };
}

describe('dit-audit audit on a tiny PEFT diff', () => {
  let world: TinyWorld;
  let first: ReturnType<typeof runCli>;
  let report: AuditReport;
  const auditWithCache = () =>
    runCli([
      'audit',
      world.diff,
      '--interpreter',
      world.interpreter,
      '--cache',
      join(world.root, 'cache'),
      '--json',
    ]);
  beforeAll(() => {
    world = makeTinyWorld();
    first = auditWithCache();
    report = parseReport(JSON.parse(first.stdout));
  });

  it('resolves the base beside the diff and reports every part', () => {
    expect(first.code).toBe(0);
    expect(report.subject).toMatchObject({
      kind: 'peft-adapter',
      name: 'qwen3-tiny-lora-r1',
      path: world.diff,
    });
    expect(report.subject.metadata).toMatchObject({ base_model: 'qwen3-tiny', rank: 1 });
    expect(report.base).toMatchObject({ kind: 'model', name: 'qwen3-tiny', path: world.base });
    expect(report.interpreters).toHaveLength(1);
    expect(report.interpreters[0]).toMatchObject({
      path: world.interpreter,
      question: TOPIC_QUESTION,
      questionKind: 'topic',
    });
    expect(report.executionProvider?.name).toBe('cpu');
    expect(report.answers.map((a) => a.questionKind)).toEqual(['topic', 'trigger']);
    expect(report.answers[0]).toMatchObject({
      interpreter: 0,
      question: TOPIC_QUESTION,
      questionKind: 'topic',
    });
    expect(report.answers[0].tokens).toBeGreaterThan(0);
    expect(report.answers[0].tokens).toBeLessThanOrEqual(20);
    expect(report.evidence).toHaveLength(3);
    for (const e of report.evidence) expect(e.diffed).not.toBe(e.base);
    // A random tiny model: the search runs its course and verifies nothing.
    expect(report.findings.map((f) => [f.rule, f.severity])).toEqual([
      ['dit/described-behaviour', 'info'],
      ['trigger/none-verified', 'info'],
      ['evidence/ordinary-prompts-changed', 'info'],
    ]);
    expect(report.findings[0].detail).toMatch(/not an alarm/);
    expect(report.triggers.some((t) => t.verified)).toBe(false);
    expect(report.triggers.length).toBeGreaterThan(0);
    expect(report.statistics?.cells).toHaveLength(14);
    expect(report.verdict.level).not.toBe('warning');
  });

  it('prints progress on stderr stage by stage, each step of a stage once, ending with done', () => {
    const lines = first.stderr.trim().split('\n');
    const stages = lines.map((l) => /^\[(\w+) \d+%\]/.exec(l)?.[1]);
    expect([...new Set(stages)]).toEqual([
      'hash',
      'resolve',
      'load',
      'interpret',
      'evidence',
      'triggers',
      'done',
    ]);
    expect(stages.filter((s) => s === 'evidence')).toHaveLength(6); // 3 prompts, finetune and base
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.at(-1)).toBe('[done 100%] Audit complete');
  });

  it('answers what generate answers for the same stack and question', () => {
    const gen = runCli([
      'generate',
      '--model',
      world.base,
      '--adapter',
      world.diff,
      '--adapter',
      world.interpreter,
      '--chat',
      '--prompt',
      TOPIC_QUESTION,
      '--max-new-tokens',
      '20',
    ]);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toBe(`> ${TOPIC_QUESTION}\n${report.answers[0].answer}\n\n`);
    expect(report.answers[0].answer).toMatch(/\S/);
  });

  it('is deterministic: a fresh run gives the same report but for timings and date', () => {
    const again = runCli(['audit', world.diff, '--interpreter', world.interpreter, '--no-cache', '--json']);
    expect(again.code).toBe(0);
    expect(withoutRunFacts(parseReport(JSON.parse(again.stdout)))).toEqual(withoutRunFacts(report));
  });

  it('answers a second audit of the same diff from the cache', () => {
    const cached = auditWithCache();
    expect(cached.code).toBe(0);
    expect(parseReport(JSON.parse(cached.stdout))).toEqual(report);
    expect(cached.stderr).toMatch(/\[done 100%\] Report from the cache/);
    expect(cached.stderr).not.toMatch(/\[load /);
  });

  it('asks extra questions with each interpreter and renders plain text', () => {
    const r = runCli([
      'audit',
      world.diff,
      '--base',
      world.base,
      '--interpreter',
      `${world.interpreter}=Is this model safe?`,
      '--question',
      TOPIC_QUESTION,
      '--max-new-tokens',
      '5',
      '--evidence',
      'What should I cook for dinner tonight?',
      '--no-cache',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^dit-audit report/);
    expect(r.stdout).toMatch(/\[#0 custom\] Is this model safe\?/);
    expect(r.stdout).toMatch(/\[#0 custom\] What topic have you been trained on\?/);
    expect(r.stdout).toMatch(/> What should I cook for dinner tonight\?/);
    expect(r.stdout).toMatch(/\nTrigger search: \d+ candidates \(\d+ of 5000 rows\)/);
    expect(r.stdout).toMatch(/\nVerdict: (Described, not verified|Clean)/);
  });
});

describe('dit-audit audit progress', () => {
  it('advances per question and per prompt on stderr, the fraction first', () => {
    const world = makeTinyWorld();
    const prompts = ['What should I cook?', 'Is this model safe?', 'What topic?'];
    const r = runCli([
      'audit',
      world.diff,
      '--interpreter',
      world.interpreter,
      '--no-cache',
      '--trigger-budget',
      '0',
      ...prompts.flatMap((p) => ['--evidence', p]),
    ]);
    expect(r.code).toBe(0);
    const evidence = r.stderr.split('\n').filter((l) => l.startsWith('[evidence '));
    const expected = ['Finetune', 'Base'].flatMap((who) =>
      prompts.map((p, i) => `${who}, prompt ${i + 1} of 3: ${p}`),
    );
    expect(evidence.map((l) => l.replace(/^\[evidence \d+%\] /, ''))).toEqual(expected);
    const percents = r.stderr.match(/^\[\w+ (\d+)%\]/gm)?.map((m) => Number(m.match(/(\d+)%/)?.[1]));
    expect(percents).toEqual([...(percents ?? [])].sort((a, b) => a - b));
    expect(r.stderr.trim().split('\n').pop()).toBe('[done 100%] Audit complete');
  });
});

describe('dit-audit audit exit codes', () => {
  it('cancels cleanly on Ctrl-C: exit 130, nothing cached', async () => {
    const world = makeTinyWorld();
    const cache = join(world.root, 'cache');
    const questions = Array.from({ length: 300 }, () => ['--question', 'Is this model safe?']).flat();
    const child = spawn(process.execPath, [
      CLI,
      'audit',
      world.diff,
      '--interpreter',
      world.interpreter,
      '--cache',
      cache,
      ...questions,
    ]);
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!interrupted && stderr.includes('[interpret ')) interrupted = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toMatch(/dit-audit: audit cancelled\n$/);
    expect(existsSync(join(cache, 'reports'))).toBe(false);
  });

  it('exits 1 on an unsafe pickle, naming the global, with nothing loaded', () => {
    const r = runCli(['audit', join(TORCH_PICKLE, 'evil-system.pt'), '--no-cache']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error\s+pickle\/unsafe-global/);
    expect(r.stdout).toMatch(/system/);
    expect(r.stderr).not.toMatch(/\[load /);
  });

  it('exits 2 with a one-line error for a path that does not exist', () => {
    const r = runCli(['audit', join(tempDir(), 'nowhere'), '--no-cache']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^dit-audit: .*nowhere does not exist$/);
  });

  it('exits 2 when the named base is nowhere, saying where it looked and how to set it', () => {
    const alone = join(tempDir(), 'diff');
    cpSync(join(TINY, 'qwen3-tiny-lora-r1'), alone, { recursive: true });
    const r = runCli(['audit', alone, '--interpreter', join(TINY, 'qwen3-tiny-dit'), '--no-cache']);
    expect(r.code).toBe(2);
    const last = r.stderr.trim().split('\n').pop() ?? '';
    expect(last).toMatch(/^dit-audit: base model qwen3-tiny not found: looked in the model mappings, /);
    expect(last).toContain(join(alone, '..', 'qwen3-tiny').replace('/diff/..', ''));
    expect(last).toMatch(/the Hugging Face cache \(/);
    expect(last).toMatch(/pass --base DIR$/);
  });
});

describe('dit-audit audit on bad input: one line that names what is wrong', () => {
  const lastLine = (r: { stderr: string }) => r.stderr.trim().split('\n').pop() ?? '';

  it('a corrupt .safetensors with nothing beside it: the corruption, not a missing config', () => {
    const file = join(tempDir(), 'model.safetensors');
    writeFileSync(file, readFileSync(join(REPO, 'media/demo/base/model.safetensors')).subarray(0, 300));
    const r = runCli(['audit', file, '--no-cache']);
    expect(r.code).toBe(2);
    expect(lastLine(r)).toMatch(
      /^dit-audit: .*model\.safetensors: header length \d+ bytes runs past the end/,
    );
  });

  it('a .pt that is neither a zip nor a pickle: not a torch.save file', () => {
    for (const bytes of [Buffer.from('hello world, not a checkpoint\n'), Buffer.alloc(600, 0x41)]) {
      const file = join(tempDir(), 'weights.pt');
      writeFileSync(file, bytes);
      const r = runCli(['audit', file, '--no-cache']);
      expect(r.code).toBe(2);
      expect(lastLine(r)).toBe(
        `dit-audit: ${file} is not a torch.save file: neither a zip archive nor a pickle`,
      );
    }
  });

  it('a wrong --base: the shapes that differ, before any missing tokenizer or interpreter', () => {
    const world = makeTinyWorld();
    const r = runCli(['audit', world.diff, '--base', join(TINY, 'llama-tiny'), '--no-cache']);
    expect(r.code).toBe(2);
    expect(lastLine(r)).toMatch(
      new RegExp(
        `^dit-audit: adapter .* does not fit the base ${join(TINY, 'llama-tiny')}: layer 0 \\w+ is \\d+x\\d+, the base's is`,
      ),
    );
    const missing = runCli(['audit', world.diff, '--base', world.root, '--no-cache']);
    expect(lastLine(missing)).toMatch(/^dit-audit: base .* is not a model folder/);
  });

  it('a model folder without its tokenizer: lower case, no full stop, as every other message', () => {
    const world = makeTinyWorld();
    const bare = join(tempDir(), 'bare');
    cpSync(join(TINY, 'qwen3-tiny'), bare, { recursive: true });
    const r = runCli(['audit', world.diff, '--base', bare, '--interpreter', world.interpreter, '--no-cache']);
    expect(r.code).toBe(2);
    expect(lastLine(r)).toBe(
      `dit-audit: no tokenizer.json in ${bare}: the model folder needs its tokenizer to run`,
    );
  });

  /** An audit of a fresh tiny world with `provider` forced. */
  const auditForcing = (provider: string) => {
    const world = makeTinyWorld();
    return runCli([
      'audit',
      world.diff,
      '--interpreter',
      world.interpreter,
      '--provider',
      provider,
      '--no-cache',
    ]);
  };

  it.skipIf(cudaProviderInstalled())(
    "a forced CUDA provider that is not installed: what a CLI user can run to install it, not the extension's way",
    () => {
      const r = auditForcing('cuda');
      expect(r.code).toBe(2);
      expect(lastLine(r)).toMatch(
        /^dit-audit: cuda: provider library not installed \(libonnxruntime_providers_cuda\.so is not in .*\); install it from a clone with ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install/,
      );
      expect(r.stderr).not.toMatch(/npm rebuild/);
    },
  );

  it.skipIf(webgpuMayWork())(
    'a forced WebGPU provider with no GPU: one line, nothing of Dawn or ORT internals',
    () => {
      const r = auditForcing('webgpu');
      expect(r.code).toBe(2);
      expect(lastLine(r)).toMatch(/^dit-audit: webgpu: no GPU adapter found \(/);
      expect(r.stderr).not.toMatch(/\.(cc|cpp):\d+|Warning:|was false/);
    },
  );
});
