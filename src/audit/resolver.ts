// Finds what an audit needs besides the subject: the base model it was finetuned from and the
// interpreters (DIT-adapters) for that base. Each is looked up in a fixed order (settings, files on
// disk, the demo, then the user); an answer from the user is remembered.
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { classifyCheckpoint, isModelFolder, requireModelFolder } from '../engine/checkpoint/classify';
import type { CheckpointRef } from '../engine/checkpoint/reference';
import { readRegularFile } from '../engine/checkpoint/regular-file';
import { InputError } from '../engine/checkpoint/types';
import { readJsonObject } from '../engine/text/tokenizer';
import { defaultDemoManifests, samePath } from './demo-manifest';
import { defaultHfCacheDirs, findInHfCache } from './hf-cache';
import type { InterpreterSpec } from './identities';
import { modelCardBaseModel } from './model-card';
import { paperBaseName, paperInterpreters } from './paper-layout';
import { TOPIC_QUESTION } from './questions';
import { type WorldManifests, worldManifests } from './world-manifests';

/** A model card is a page or two; its front matter is all that is read. */
const MAX_MODEL_CARD_BYTES = 16 * 1024 * 1024;

export interface ResolverQuestion {
  readonly kind: 'base' | 'interpreter';
  /** The base's name (a repo id, or the folder when it has none). */
  readonly name: string;
  readonly reason: string;
  /** The folder of the checkpoint being audited: where a dialog for the answer should start. */
  readonly near?: string;
}

/**
 * A base as an audit knows it. An answer the user gives is remembered under `key`: the repo id,
 * else the base's absolute folder (never a relative path as a checkpoint states it, which means
 * another folder for every checkpoint that states it).
 */
export interface BaseKey {
  /** The Hugging Face repo id the checkpoint names (`Qwen/Qwen3-8B`); absent when it names a path. */
  readonly repoId?: string;
  readonly dir: string;
}

export interface ModelResolverOptions {
  /** Repo id (or any base name a checkpoint states) → model folder. */
  readonly modelMappings?: Readonly<Record<string, string>>;
  /** Base repo id, or base folder → the interpreters for it. */
  readonly interpreterMappings?: Readonly<Record<string, readonly InterpreterSpec[]>>;
  /** Default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub. */
  readonly hfCacheDirs?: readonly string[];
  /** Default: the packaged `media/demo/manifest.json`. */
  readonly demoManifests?: readonly string[];
  /** Asked when nothing else found an answer: a folder (base) or an adapter path (interpreter). */
  readonly ask?: (question: ResolverQuestion) => Promise<string | undefined>;
  /** Remembers an answer under `key`: a repo id or an absolute folder (see BaseKey). */
  readonly remember?: (kind: 'base' | 'interpreter', key: string, path: string) => void | Promise<void>;
  /** How a user of this surface sets a base / interpreter: ends the not-found errors. */
  readonly hints?: { readonly base?: string; readonly interpreter?: string };
}

export interface ResolvedBase extends BaseKey {
  /** The name users recognise: the repo id, else the folder's name. */
  readonly name: string;
}

/** A name a checkpoint gives its base is a repo id (`org/name`, `name`), else a path. */
export function isRepoId(name: string): boolean {
  return (
    /^[A-Za-z0-9_][\w.-]*(\/[\w.-]+)?$/.test(name) && !name.split('/').some((p) => p === '..' || p === '.')
  );
}

/** The base as an audit names it: by its repo id when the checkpoint states one, else by its folder. */
export function resolvedBase(stated: string | undefined, dir: string): ResolvedBase {
  const repoId = stated !== undefined && isRepoId(stated) ? stated : undefined;
  return { name: repoId ?? basename(dir), dir, ...(repoId ? { repoId } : {}) };
}

const DEFAULT_HINTS = {
  base: 'pass --base DIR, or map the name to a folder in the model mappings setting',
  interpreter:
    'pass --interpreter PATH, or map the base to its DIT-adapters in the interpreter mappings setting',
};

export class ModelResolver {
  private readonly hfCacheDirs: readonly string[];
  private readonly demoManifests: readonly string[];
  private waited = 0;

  constructor(private readonly options: ModelResolverOptions = {}) {
    this.hfCacheDirs = options.hfCacheDirs ?? defaultHfCacheDirs();
    this.demoManifests = options.demoManifests ?? defaultDemoManifests();
  }

  /** Milliseconds spent waiting for the user's answers so far: no part of an audit's timings. */
  get waitedMs(): number {
    return this.waited;
  }

  /** The base a checkpoint says it was finetuned from, by its own files, else by where it lies. */
  async baseNameOf(subject: CheckpointRef): Promise<string | undefined> {
    const checkpoint = classifyCheckpoint(subject.path);
    const dir = checkpoint.path;
    if (checkpoint.kind === 'torch-file') return paperBaseName(dir);
    if (checkpoint.kind === 'peft-adapter') {
      const stated = nonEmpty((await readJsonObject(dir, 'adapter_config.json'))?.base_model_name_or_path);
      if (stated) return stated;
    }
    const readme = join(dir, 'README.md');
    if (existsSync(readme)) {
      const stated = modelCardBaseModel(
        (await readRegularFile(readme, MAX_MODEL_CARD_BYTES)).toString('utf8'),
      );
      if (stated) return stated;
    }
    if (checkpoint.kind === 'model-folder') {
      const stated = nonEmpty((await readJsonObject(dir, 'config.json'))?._name_or_path);
      if (stated) return stated;
    }
    return paperBaseName(dir);
  }

  /**
   * The folder of the base model `name`: the model mappings, a folder by that path (absolute, or
   * beside the subject: `near`, its own folder first), the Hugging Face cache, then the user. A
   * path is looked up in the mappings, and remembered, as the absolute path it means from `near[0]`.
   */
  async resolveBase(name: string, near: readonly string[] = []): Promise<string> {
    const key = isRepoId(name) || isAbsolute(name) ? name : resolve(near[0] ?? '.', name);
    const mapped = this.options.modelMappings?.[key];
    if (mapped !== undefined) {
      requireModelFolder(mapped, `the model mapping for ${key} is ${mapped}, which`);
      return resolve(mapped);
    }
    const locals = isAbsolute(name) ? [name] : [...new Set(near.map((dir) => resolve(dir, name)))];
    const local = locals.find((dir) => isModelFolder(dir));
    if (local) return resolve(local);
    const cached = findInHfCache(name, this.hfCacheDirs);
    if (cached) return cached;
    const looked = [
      'the model mappings',
      ...locals,
      `the Hugging Face cache (${this.hfCacheDirs.join(', ') || 'no folders'})`,
    ];
    const answer = await this.ask(
      'base',
      name,
      `base model ${name} was not found in ${looked.join(', ')}`,
      near[0],
    );
    if (answer !== undefined) {
      await this.options.remember?.('base', key, answer);
      return answer;
    }
    throw new InputError(
      `base model ${name} not found: looked in ${looked.join(', ')}; ${this.options.hints?.base ?? DEFAULT_HINTS.base}`,
    );
  }

  /** The base of `subject`: a demo world's manifest that lists it, else the base it names, resolved. */
  async resolveBaseOf(subject: CheckpointRef): Promise<ResolvedBase> {
    const { path } = subject;
    const stated = await this.baseNameOf(subject);
    // A relative name is relative to the checkpoint's own folder (as PEFT writers that store a
    // path mean it), else a folder beside the checkpoint (a `.safetensors` stands for its folder).
    const checkpoint = classifyCheckpoint(path);
    const own = checkpoint.kind === 'torch-file' ? dirname(path) : checkpoint.path;
    const demo = this.manifests([own]).found.find((m) => m.diffs.some((d) => samePath(d, path)));
    if (demo && !(stated && isRepoId(stated) && this.options.modelMappings?.[stated])) {
      return resolvedBase(stated, demo.base);
    }
    if (stated) return resolvedBase(stated, await this.resolveBase(stated, [own, dirname(own)]));
    const reason = `${path} does not say which base model it was finetuned from`;
    const answer = await this.ask('base', basename(path), reason, own);
    if (answer !== undefined) return resolvedBase(undefined, answer);
    throw new InputError(
      `${reason} (no base_model_name_or_path in adapter_config.json, base_model in README.md or _name_or_path in config.json); ${this.options.hints?.base ?? DEFAULT_HINTS.base}`,
    );
  }

  /**
   * The interpreters for a base: the interpreter mappings (by repo id, then folder), the paper's
   * `dit-adapter.pt` beside the diff, the demo world of that base (packaged, or a manifest above
   * the diff or the base), then the user, whose answer is remembered by repo id, else by folder.
   */
  async resolveInterpreters(base: BaseKey, subject?: CheckpointRef): Promise<InterpreterSpec[]> {
    const mappings = this.options.interpreterMappings ?? {};
    const byName = base.repoId === undefined ? undefined : mappings[base.repoId];
    const byDir = Object.entries(mappings).find(
      ([key]) => isAbsolute(key) && existsSync(key) && samePath(key, base.dir),
    )?.[1];
    const mapped = byName ?? byDir;
    if (mapped && mapped.length > 0) return mapped.map((s) => ({ ...s, path: resolve(s.path) }));
    const paper = subject ? paperInterpreters(subject.path) : [];
    if (paper.length > 0) return paper;
    const near = subject ? dirname(resolve(subject.path)) : undefined;
    const manifests = this.manifests([...(near ? [near] : []), base.dir]);
    const demo = manifests.found.find((m) => samePath(m.base, base.dir));
    if (demo && demo.interpreters.length > 0) return [...demo.interpreters];
    const name = base.repoId ?? base.dir;
    const answer = await this.ask(
      'interpreter',
      name,
      `no DIT-adapter is known for base model ${name} (looked in the interpreter mappings, beside the diff, and the demo worlds)`,
      near,
    );
    if (answer !== undefined) {
      await this.options.remember?.('interpreter', name, answer);
      return [{ path: resolve(answer), question: TOPIC_QUESTION, questionKind: 'topic' }];
    }
    throw new InputError(
      `no interpreter (DIT-adapter) known for base model ${name}: looked in the interpreter mappings, for dit-adapter.pt beside the diff, and for a demo world's manifest.json${manifests.problems.map((p) => ` (${p})`).join('')}; ${this.options.hints?.interpreter ?? DEFAULT_HINTS.interpreter}`,
    );
  }

  private async ask(
    kind: 'base' | 'interpreter',
    name: string,
    reason: string,
    near: string | undefined,
  ): Promise<string | undefined> {
    const asked = performance.now();
    let answer: string | undefined;
    try {
      answer = await this.options.ask?.({ kind, name, reason, ...(near ? { near } : {}) });
    } finally {
      if (this.options.ask) this.waited += performance.now() - asked;
    }
    if (answer === undefined || answer === '') return undefined;
    const abs = resolve(answer);
    if (kind === 'base') requireModelFolder(abs, answer);
    if (kind === 'interpreter' && !existsSync(abs))
      throw new InputError(`interpreter ${answer} does not exist`);
    return abs;
  }

  /** The packaged demo manifests and the worlds above `near`; a malformed packaged one says why. */
  private manifests(near: readonly string[]): WorldManifests {
    return worldManifests(this.demoManifests, near);
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
