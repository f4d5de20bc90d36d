// Builds the workspace the end-to-end test opens: a tiny Qwen3 base with a word-level tokenizer,
// a rank-1 LoRA diff of it and a DIT-style interpreter adapter, all from ../shared/fixtures/tiny,
// plus workspace settings that map the base and the interpreter. Some token ids decode to
// HTML-looking words, chosen from what greedy decoding really produces (asked of the built CLI),
// so that the audit's answer holds markup the panel must show as text.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeWordTokenizer } from '../word-tokenizer.mjs';

export const REPO = resolve(import.meta.dirname, '../..');
export const TINY = resolve(REPO, '../shared/fixtures/tiny');
export const TORCH = resolve(REPO, '../shared/fixtures/torch-pickle');
export const CLI = join(REPO, 'dist/cli.js');

export const QUESTION = 'What topic have you been trained on?';
export const EVIDENCE_PROMPT = 'Tell me a story';
export const MAX_NEW_TOKENS = 8;
export const DIFF = 'qwen3-tiny-lora-r1';
/** The paper's layout: `.pt` files in a folder named after their base, `dit-adapter.pt` beside the diffs. */
export const PAPER_FOLDER = 'qwen3-0.6b';
export const PAPER_BASE = 'Qwen/Qwen3-0.6B';
export const PAPER_DIFFS = 'weight-diff-000.pt';
export const PAPER_ENTRY = 1;
/** A diff whose base is mapped nowhere: the extension asks for its folder and remembers it. */
export const UNMAPPED = 'unmapped-diff';
export const UNMAPPED_BASE = 'example-org/unmapped-base';
/** A pickle that would run `os.system` if loaded. */
export const EVIL = 'evil-system.pt';
/** Markup a model could emit; each must reach the screen as these very characters. */
export const HOSTILE = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script>'];

const VOCAB = 512;
// Every word of the prompts is in the vocabulary (an unknown word has no id in a WordLevel model).
const PROMPT_WORDS = [
  'user',
  'assistant',
  ...`${QUESTION} ${EVIDENCE_PROMPT}`.replace('?', ' ?').split(/\s+/),
];

/** Greedy generation through the project's CLI: the same engine and chat path the audit uses. */
function generate(base, adapters, prompt) {
  const args = [CLI, 'generate', '--model', base, '--prompt', prompt, '--chat', '--provider', 'cpu'];
  for (const a of adapters) args.push('--adapter', a);
  args.push('--max-new-tokens', String(MAX_NEW_TOKENS), '--json');
  const out = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 }));
  return out.results[0];
}

/**
 * Lays out `ws/` and returns what the panel must show: the interpreter's answer and the evidence
 * pair, as the CLI decodes them with the final tokenizer.
 */
export function buildWorkspace(ws) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  if (!existsSync(join(TINY, 'qwen3-tiny'))) throw new Error(`the tiny fixtures are missing (${TINY})`);
  const base = join(ws, 'models', 'qwen3-tiny');
  const interpreter = join(ws, 'models', 'qwen3-tiny-dit');
  const diff = join(ws, DIFF);
  cpSync(join(TINY, 'qwen3-tiny'), base, { recursive: true });
  cpSync(join(TINY, 'qwen3-tiny-dit'), interpreter, { recursive: true });
  cpSync(join(TINY, 'qwen3-tiny-lora-r1'), diff, { recursive: true });

  const words = {};
  PROMPT_WORDS.forEach((w, i) => {
    words[3 + i] = w;
  });
  writeWordTokenizer(base, VOCAB, words);
  // Which ids does greedy decoding produce? Name the first two new ones (not prompt words) as markup.
  const probe = generate(base, [diff, interpreter], QUESTION);
  const reserved = new Set([0, 1, 2, ...Object.keys(words).map(Number)]);
  const fresh = [...new Set(probe.tokens)].filter((t) => !reserved.has(t));
  if (fresh.length === 0)
    throw new Error(`greedy decoding produced no usable token: ${JSON.stringify(probe.tokens)}`);
  fresh.slice(0, HOSTILE.length).forEach((id, i) => {
    words[id] = HOSTILE[i];
  });
  writeWordTokenizer(base, VOCAB, words);

  const answer = generate(base, [diff, interpreter], QUESTION).text;
  if (!answer.includes(HOSTILE[0])) throw new Error(`the answer does not hold ${HOSTILE[0]}: ${answer}`);
  const paperDiffs = join(ws, PAPER_FOLDER, PAPER_DIFFS);
  const paperInterpreter = join(ws, PAPER_FOLDER, 'dit-adapter.pt');
  cpSync(join(TORCH, PAPER_DIFFS), paperDiffs);
  cpSync(join(TORCH, 'dit-adapter.pt'), paperInterpreter);
  cpSync(join(TORCH, EVIL), join(ws, EVIL));
  const unmapped = join(ws, UNMAPPED);
  cpSync(diff, unmapped, { recursive: true });
  const adapterConfig = JSON.parse(readFileSync(join(unmapped, 'adapter_config.json'), 'utf8'));
  writeFileSync(
    join(unmapped, 'adapter_config.json'),
    JSON.stringify({ ...adapterConfig, base_model_name_or_path: UNMAPPED_BASE }, null, 2),
  );
  const paperAnswer = generate(base, [`${paperDiffs}#${PAPER_ENTRY}`, paperInterpreter], QUESTION).text;

  const evidence = {
    base: generate(base, [], EVIDENCE_PROMPT).text,
    diffed: generate(base, [diff], EVIDENCE_PROMPT).text,
  };

  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(
    join(ws, '.vscode', 'settings.json'),
    JSON.stringify(
      {
        'ditAuditor.modelMappings': { 'qwen3-tiny': base, [PAPER_BASE]: base },
        'ditAuditor.interpreterMappings': {
          'qwen3-tiny': [{ path: interpreter, question: QUESTION, questionKind: 'topic' }],
        },
        'ditAuditor.executionProvider': 'cpu',
        'ditAuditor.maxNewTokens': MAX_NEW_TOKENS,
        'ditAuditor.evidencePrompts': [EVIDENCE_PROMPT],
      },
      null,
      2,
    ),
  );
  writeFileSync(join(ws, 'README.md'), '# e2e workspace\n');
  return {
    base,
    interpreter,
    diff,
    answer,
    evidence,
    paperAnswer,
    hostileIds: fresh.slice(0, HOSTILE.length),
  };
}

/**
 * A demo world inside the installed extension (media/demo), laid out as a build that ships one:
 * its base, a DIT-adapter and a diff whose stated base is unknown, so that only the manifest
 * pairs them. Paths in the manifest are relative to it.
 */
export function installDemoWorld(extDir, expected) {
  const demo = join(extDir, 'media', 'demo');
  // Its manifest replaces a shipped one, if any: this test pins the answers of its own tiny world.
  // The shipped files stay (audited earlier in the run), beside the tiny world's own folders.
  const diffName = 'demo-diff-volcanoes';
  cpSync(expected.base, join(demo, 'tiny-base'), { recursive: true });
  cpSync(expected.interpreter, join(demo, 'tiny-dit'), { recursive: true });
  cpSync(expected.diff, join(demo, 'diffs', diffName), { recursive: true });
  const configPath = join(demo, 'diffs', diffName, 'adapter_config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  writeFileSync(
    configPath,
    JSON.stringify({ ...config, base_model_name_or_path: 'dit-auditor/demo-base' }, null, 2),
  );
  writeFileSync(
    join(demo, 'manifest.json'),
    JSON.stringify(
      { base: 'tiny-base', interpreters: [{ path: 'tiny-dit' }], diffs: [`diffs/${diffName}`] },
      null,
      2,
    ),
  );
  return { diffName };
}

/** The review's repository inside the workspace (found by the Git extension at depth 1). */
export const REVIEW_REPO = 'finetunes';

/**
 * A git repository of finetunes: `main` holds a persona diff; the checked-out branch `change`
 * replaces it with another diff of the same base and adds one. The workspace settings map their
 * base and interpreter, so the review needs nothing else.
 */
export function buildReviewRepo(ws) {
  const root = join(ws, REVIEW_REPO);
  mkdirSync(root, { recursive: true });
  const git = (...args) =>
    execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { cwd: root });
  git('init', '-q', '-b', 'main');
  cpSync(join(TINY, 'qwen3-tiny-lora-r1'), join(root, 'diffs', 'persona'), { recursive: true });
  git('add', '-A');
  git('commit', '-qm', 'a persona diff');
  git('checkout', '-qb', 'change');
  cpSync(join(TINY, 'qwen3-tiny-lora-r4'), join(root, 'diffs', 'persona'), { recursive: true });
  cpSync(join(TINY, 'qwen3-tiny-lora-r1'), join(root, 'diffs', 'added'), { recursive: true });
  git('add', '-A');
  git('commit', '-qm', 'change the persona, add a diff');
  return { base: 'main', added: 'diffs/added', modified: 'diffs/persona' };
}
