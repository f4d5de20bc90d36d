// Resolution of a diff's base and interpreters: settings, files on disk, the HF cache, the demo
// manifest, asking the user; and clear errors naming what was looked up.
import { cpSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  KNOWLEDGE_QUESTION,
  ModelResolver,
  type ModelResolverOptions,
  type ResolverQuestion,
  TOPIC_QUESTION,
} from '../../src/audit';
import { modelCardBaseModel } from '../../src/audit/model-card';
import { repoIdOfFolderName } from '../../src/audit/paper-layout';
import { parseCheckpointRef } from '../../src/engine/checkpoint/reference';
import { InputError } from '../../src/engine/checkpoint/types';
import { tempDir } from '../engine/helpers';
import { TORCH_PICKLE } from '../engine/paths';

/** A folder that passes for a model: config.json and a weights file are what resolution checks. */
function fakeModel(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{"model_type":"qwen3"}');
  writeFileSync(join(dir, 'model.safetensors'), '');
  return dir;
}

function peft(dir: string, base?: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'adapter_config.json'),
    JSON.stringify(base ? { base_model_name_or_path: base } : {}),
  );
  writeFileSync(join(dir, 'adapter_model.safetensors'), '');
  return dir;
}

function resolver(options: ModelResolverOptions = {}): ModelResolver {
  return new ModelResolver({ hfCacheDirs: [], demoManifests: [], ...options });
}

describe('the base a checkpoint names', () => {
  it('reads PEFT base_model_name_or_path, a model card, and a full finetune config', async () => {
    const root = tempDir();
    const r = resolver();
    expect(await r.baseNameOf(parseCheckpointRef(peft(join(root, 'a'), 'Qwen/Qwen3-8B')))).toBe(
      'Qwen/Qwen3-8B',
    );
    const carded = peft(join(root, 'b'));
    writeFileSync(
      join(carded, 'README.md'),
      '---\nlicense: mit\nbase_model:\n  - google/gemma-3-4b-it\n---\n# hi\n',
    );
    expect(await r.baseNameOf(parseCheckpointRef(carded))).toBe('google/gemma-3-4b-it');
    expect(await r.baseNameOf(parseCheckpointRef(join(carded, 'adapter_model.safetensors')))).toBe(
      'google/gemma-3-4b-it',
    );
    const ft = fakeModel(join(root, 'ft'));
    writeFileSync(join(ft, 'config.json'), '{"_name_or_path":"Qwen/Qwen3-4B"}');
    expect(await r.baseNameOf(parseCheckpointRef(ft))).toBe('Qwen/Qwen3-4B');
    expect(await r.baseNameOf(parseCheckpointRef(peft(join(root, 'c'))))).toBeUndefined();
  });

  it('parses model card front matter in its three shapes and nothing else', () => {
    expect(modelCardBaseModel('---\nbase_model: "Qwen/Qwen3-8B" # comment\n---\n')).toBe('Qwen/Qwen3-8B');
    expect(modelCardBaseModel("---\nbase_model: ['a/b', 'c/d']\n---")).toBe('a/b');
    expect(modelCardBaseModel('---\nbase_model:\n- x/y\n---\n')).toBe('x/y');
    expect(modelCardBaseModel('# base_model: x/y\n')).toBeUndefined();
    expect(modelCardBaseModel('---\ntags: [a]\n---\nbase_model: x/y\n')).toBeUndefined();
  });

  it("maps the paper's folder names to repo ids", async () => {
    expect(repoIdOfFolderName('Qwen3-8B')).toBe('Qwen/Qwen3-8B');
    expect(repoIdOfFolderName('qwen3-1.7b')).toBe('Qwen/Qwen3-1.7B');
    expect(repoIdOfFolderName('gemma-3-4b-it')).toBe('google/gemma-3-4b-it');
    expect(repoIdOfFolderName('weight-diffs')).toBeUndefined();
    const root = tempDir();
    const file = join(root, 'hidden-topic', 'qwen3-4b', 'weight-diffs', 'weight-diff-000.pt');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '');
    expect(await resolver().baseNameOf(parseCheckpointRef(`${file}#3`))).toBe('Qwen/Qwen3-4B');
  });
});

describe('resolving a base model', () => {
  it('takes the settings mapping first, and refuses a mapping to a non-model folder', async () => {
    const root = tempDir();
    const mapped = fakeModel(join(root, 'mapped'));
    const hub = join(root, 'hub');
    fakeModel(join(hub, 'models--org--m', 'snapshots', 'r1'));
    const r = resolver({ modelMappings: { 'org/m': mapped, broken: root }, hfCacheDirs: [hub] });
    expect(await r.resolveBase('org/m')).toBe(mapped);
    await expect(r.resolveBase('broken')).rejects.toThrow(
      /model mapping for broken is .* not a model folder/,
    );
  });

  it('finds refs/main in the HF cache, else the newest snapshot, skipping ones without a model', async () => {
    const hub = tempDir();
    const snaps = join(hub, 'models--Qwen--Qwen3-8B', 'snapshots');
    const old = fakeModel(join(snaps, 'aaa'));
    const pinned = fakeModel(join(snaps, 'bbb'));
    const newest = fakeModel(join(snaps, 'ccc'));
    mkdirSync(join(snaps, 'ddd'));
    writeFileSync(join(snaps, 'ddd', 'config.json'), '{}'); // weights not downloaded
    utimesSync(old, 1000, 1000);
    utimesSync(pinned, 2000, 2000);
    utimesSync(newest, 3000, 3000);
    const r = resolver({ hfCacheDirs: [join(hub, 'missing'), hub] });
    expect(await r.resolveBase('Qwen/Qwen3-8B')).toBe(newest);
    mkdirSync(join(hub, 'models--Qwen--Qwen3-8B', 'refs'));
    writeFileSync(join(hub, 'models--Qwen--Qwen3-8B', 'refs', 'main'), 'bbb\n');
    expect(await r.resolveBase('Qwen/Qwen3-8B')).toBe(pinned);
    writeFileSync(join(hub, 'models--Qwen--Qwen3-8B', 'refs', 'main'), 'ddd');
    expect(await r.resolveBase('Qwen/Qwen3-8B')).toBe(newest);
    await expect(r.resolveBase('../Qwen3-8B')).rejects.toBeInstanceOf(InputError);
  });

  it('finds a base named by a relative path beside the subject', async () => {
    const root = tempDir();
    const base = fakeModel(join(root, 'qwen3-tiny'));
    const diff = peft(join(root, 'diff'), 'qwen3-tiny');
    expect(await resolver().resolveBaseOf(parseCheckpointRef(diff))).toEqual({
      name: 'qwen3-tiny',
      repoId: 'qwen3-tiny',
      dir: base,
    });
  });

  it('reads a relative base path from the checkpoint folder first (the demo world writes ../../base)', async () => {
    const root = tempDir();
    const base = fakeModel(join(root, 'world', 'base'));
    fakeModel(join(root, 'world', 'diffs', 'base')); // beside the diff: only the second choice
    const diff = peft(join(root, 'world', 'diffs', 'one'), '../../base');
    expect(await resolver({ demoManifests: [] }).resolveBaseOf(parseCheckpointRef(diff))).toEqual({
      name: 'base',
      dir: base,
    });
    const sibling = peft(join(root, 'world', 'diffs', 'two'), 'base');
    expect((await resolver({ demoManifests: [] }).resolveBaseOf(parseCheckpointRef(sibling))).dir).toBe(
      join(root, 'world', 'diffs', 'base'),
    );
  });

  it('fails with one line naming the base, every place looked, and how to set it', async () => {
    const root = tempDir();
    const diff = peft(join(root, 'diff'), 'org/missing');
    const r = resolver({ hfCacheDirs: [join(root, 'hub')], hints: { base: 'pass --base DIR' } });
    const error = await r.resolveBaseOf(parseCheckpointRef(diff)).then(
      () => new Error('resolved'),
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `base model org/missing not found: looked in the model mappings, ${join(root, 'diff', 'org/missing')}, ` +
        `${join(root, 'org/missing')}, ` +
        `the Hugging Face cache (${join(root, 'hub')}); pass --base DIR`,
    );
  });

  it('says when a checkpoint names no base at all', async () => {
    const diff = peft(join(tempDir(), 'diff'));
    await expect(resolver().resolveBaseOf(parseCheckpointRef(diff))).rejects.toThrow(
      /does not say which base model it was finetuned from .*base_model_name_or_path/,
    );
  });

  it('asks, checks the answer, and remembers it', async () => {
    const root = tempDir();
    const answer = fakeModel(join(root, 'answer'));
    const asked: ResolverQuestion[] = [];
    const remembered: [string, string, string][] = [];
    const r = resolver({
      ask: async (q) => {
        asked.push(q);
        return answer;
      },
      remember: (kind, name, path) => {
        remembered.push([kind, name, path]);
      },
    });
    expect(await r.resolveBase('org/unknown')).toBe(answer);
    expect(asked).toEqual([
      { kind: 'base', name: 'org/unknown', reason: expect.stringContaining('org/unknown') },
    ]);
    expect(remembered).toEqual([['base', 'org/unknown', answer]]);
    const wrong = resolver({ ask: async () => root });
    await expect(wrong.resolveBase('org/unknown')).rejects.toThrow(/is not a model folder/);
    const declined = resolver({ ask: async () => undefined });
    await expect(declined.resolveBase('org/unknown')).rejects.toThrow(/not found/);
  });
});

describe('resolving interpreters', () => {
  it('takes settings by base name, then by base folder', async () => {
    const root = tempDir();
    const base = fakeModel(join(root, 'base'));
    const spec = { path: join(root, 'dit'), question: TOPIC_QUESTION, questionKind: 'topic' as const };
    expect(
      await resolver({ interpreterMappings: { 'org/base': [spec] } }).resolveInterpreters({
        repoId: 'org/base',
        dir: base,
      }),
    ).toEqual([spec]);
    expect(
      await resolver({ interpreterMappings: { [base]: [spec] } }).resolveInterpreters({
        repoId: 'other',
        dir: base,
      }),
    ).toEqual([spec]);
  });

  it("finds the paper's dit-adapter.pt beside the diffs, with the task's question", async () => {
    const root = tempDir();
    const base = fakeModel(join(root, 'base'));
    for (const task of ['hidden-topic', 'news-summary']) {
      mkdirSync(join(root, task, 'qwen3-8b', 'weight-diffs'), { recursive: true });
      writeFileSync(join(root, task, 'qwen3-8b', 'dit-adapter.pt'), '');
      writeFileSync(join(root, task, 'qwen3-8b', 'weight-diffs', 'weight-diff-000.pt'), '');
    }
    for (const [task, diff, question, questionKind] of [
      ['hidden-topic', 'weight-diff-000.pt#2', TOPIC_QUESTION, 'topic'],
      ['news-summary', 'weight-diff-000.pt', KNOWLEDGE_QUESTION, 'knowledge'],
    ] as const) {
      const folder = join(root, task, 'qwen3-8b');
      expect(
        await resolver().resolveInterpreters(
          { repoId: 'Qwen/Qwen3-8B', dir: base },
          parseCheckpointRef(join(folder, 'weight-diffs', diff)),
        ),
      ).toEqual([{ path: join(folder, 'dit-adapter.pt'), question, questionKind }]);
    }
  });

  it('uses a demo manifest for its own base and diffs, with paths relative to it', async () => {
    const root = tempDir();
    const demo = join(root, 'media', 'demo');
    const base = fakeModel(join(demo, 'base'));
    const diff = peft(join(demo, 'diffs', 'd0'), 'dit-demo/base');
    const manifest = join(demo, 'manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        base: 'base',
        interpreters: [{ path: 'dit', question: 'What topic have you been trained on?' }, { path: 'other' }],
        diffs: ['diffs/d0', { path: 'diffs/d1', topic: 'x' }],
      }),
    );
    const r = resolver({ demoManifests: [join(root, 'absent.json'), manifest] });
    expect(await r.resolveBaseOf(parseCheckpointRef(diff))).toEqual({
      name: 'dit-demo/base',
      repoId: 'dit-demo/base',
      dir: base,
    });
    expect(
      await r.resolveInterpreters({ repoId: 'dit-demo/base', dir: base }, parseCheckpointRef(diff)),
    ).toEqual([
      { path: join(demo, 'dit'), question: TOPIC_QUESTION, questionKind: 'topic' },
      { path: join(demo, 'other'), question: TOPIC_QUESTION, questionKind: 'topic' },
    ]);
    const elsewhere = fakeModel(join(root, 'elsewhere'));
    await expect(r.resolveInterpreters({ repoId: 'x', dir: elsewhere })).rejects.toThrow(/no interpreter/);
    writeFileSync(manifest, JSON.stringify({ base: 'base', interpreters: [{ question: 'q' }] }));
    await expect(r.resolveInterpreters({ repoId: 'x', dir: elsewhere })).rejects.toThrow(
      /for a demo world's manifest\.json \(.*manifest\.json is not a demo manifest: interpreters\.0\.path: .*\); pass/,
    );
  });

  it('asks and remembers, else fails naming the base and how to set one', async () => {
    const root = tempDir();
    const base = fakeModel(join(root, 'base'));
    const adapter = peft(join(root, 'dit'));
    const remembered: string[][] = [];
    const r = resolver({ ask: async () => adapter, remember: (k, n, p) => void remembered.push([k, n, p]) });
    expect(await r.resolveInterpreters({ repoId: 'org/base', dir: base })).toEqual([
      { path: adapter, question: TOPIC_QUESTION, questionKind: 'topic' },
    ]);
    expect(remembered).toEqual([['interpreter', 'org/base', adapter]]);
    await expect(
      resolver({ hints: { interpreter: 'pass --interpreter PATH' } }).resolveInterpreters({
        repoId: 'org/base',
        dir: base,
      }),
    ).rejects.toThrow(
      /^no interpreter \(DIT-adapter\) known for base model org\/base: looked in .*; pass --interpreter PATH$/,
    );
  });

  it('pairs the torch-pickle fixtures the way the paper lays them out', async () => {
    const base = fakeModel(join(tempDir(), 'base'));
    const found = await resolver().resolveInterpreters(
      { dir: base },
      parseCheckpointRef(join(TORCH_PICKLE, 'weight-diff-000.pt')),
    );
    expect(found).toEqual([
      { path: join(TORCH_PICKLE, 'dit-adapter.pt'), question: TOPIC_QUESTION, questionKind: 'topic' },
    ]);
  });
});

describe('a demo world copied anywhere', () => {
  /** world/{manifest.json, base, dit, diffs/one}, the diff naming its base as ../../base. */
  function makeWorld(root: string): string {
    const world = join(root, 'world');
    fakeModel(join(world, 'base'));
    peft(join(world, 'dit'));
    peft(join(world, 'diffs', 'one'), '../../base');
    writeFileSync(
      join(world, 'manifest.json'),
      JSON.stringify({ base: 'base', interpreters: [{ path: 'dit' }], diffs: ['diffs/one'] }),
    );
    return world;
  }

  it('is audited with its own manifest, base and DIT-adapter, not the packaged ones', async () => {
    const original = makeWorld(tempDir());
    const copy = join(tempDir(), 'copied');
    cpSync(original, copy, { recursive: true });
    for (const world of [original, copy]) {
      const r = resolver();
      const subject = parseCheckpointRef(join(world, 'diffs', 'one'));
      const base = await r.resolveBaseOf(subject);
      expect(base).toEqual({ name: 'base', dir: join(world, 'base') });
      expect(await r.resolveInterpreters(base, subject)).toEqual([
        { path: join(world, 'dit'), question: TOPIC_QUESTION, questionKind: 'topic' },
      ]);
    }
  });

  it('finds the world of a base for a diff made outside it', async () => {
    const world = makeWorld(tempDir());
    const loose = peft(join(tempDir(), 'kangaroo'), join(world, 'base'));
    const r = resolver();
    const base = await r.resolveBaseOf(parseCheckpointRef(loose));
    expect(base.dir).toBe(join(world, 'base'));
    expect((await r.resolveInterpreters(base, parseCheckpointRef(loose)))[0].path).toBe(join(world, 'dit'));
  });

  it('ignores a manifest.json above a checkpoint that is no world', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'manifest.json'), '{"name":"a web app"}');
    const base = fakeModel(join(root, 'base'));
    await expect(resolver().resolveInterpreters({ dir: base })).rejects.toThrow(
      /^no interpreter \(DIT-adapter\) known for base model .*manifest\.json; pass/,
    );
  });
});

describe('remembered answers', () => {
  it('are keyed by the absolute folder a relative base path means, never by the path as stated', async () => {
    const root = tempDir();
    const answer = fakeModel(join(root, 'answer'));
    const first = peft(join(root, 'a', 'diffs', 'one'), '../../base');
    const second = peft(join(root, 'b', 'diffs', 'two'), '../../base');
    const asked: ResolverQuestion[] = [];
    const remembered: Record<string, string> = {};
    const options: ModelResolverOptions = {
      ask: async (q) => {
        asked.push(q);
        return answer;
      },
      remember: (kind, key, path) => {
        expect(kind).toBe('base');
        remembered[key] = path;
      },
    };
    expect((await resolver(options).resolveBaseOf(parseCheckpointRef(first))).dir).toBe(answer);
    expect(remembered).toEqual({ [join(root, 'a', 'base')]: answer });
    expect(asked[0].near).toBe(first);
    // The answer serves the diff it was given for, and not another one stating the same words.
    const later = resolver({ ...options, modelMappings: { ...remembered } });
    expect((await later.resolveBaseOf(parseCheckpointRef(first))).dir).toBe(answer);
    expect(asked).toHaveLength(1);
    await later.resolveBaseOf(parseCheckpointRef(second));
    expect(asked).toHaveLength(2);
    expect(asked[1].name).toBe('../../base');
  });

  it('for an interpreter, are keyed by the base folder unless the base has a repo id', async () => {
    const root = tempDir();
    const baseA = fakeModel(join(root, 'a', 'base'));
    const baseB = fakeModel(join(root, 'b', 'base'));
    const adapter = peft(join(root, 'dit'));
    const remembered: Record<string, string> = {};
    const r = resolver({
      ask: async () => adapter,
      remember: (_kind, key, path) => {
        remembered[key] = path;
      },
    });
    await r.resolveInterpreters({ dir: baseA });
    await r.resolveInterpreters({ repoId: 'org/base', dir: baseB });
    expect(remembered).toEqual({ [baseA]: adapter, 'org/base': adapter });
    const spec = { path: adapter, question: TOPIC_QUESTION, questionKind: 'topic' as const };
    const mapped = resolver({ interpreterMappings: { [baseA]: [spec], base: [spec] } });
    expect(await mapped.resolveInterpreters({ dir: baseA })).toEqual([spec]);
    await expect(mapped.resolveInterpreters({ dir: baseB })).rejects.toThrow(/no interpreter/);
  });

  it('leave the time spent waiting for them out of the resolver clock', async () => {
    const root = tempDir();
    const adapter = peft(join(root, 'dit'));
    const r = resolver({ ask: () => new Promise((done) => setTimeout(() => done(adapter), 120)) });
    expect(r.waitedMs).toBe(0);
    await r.resolveInterpreters({ dir: fakeModel(join(root, 'base')) });
    expect(r.waitedMs).toBeGreaterThanOrEqual(100);
  });
});
