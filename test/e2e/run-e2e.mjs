// End-to-end test of the VS Code extension, as a user meets it: install the packaged VSIX into a
// real VS Code (code-server), open a workspace holding a tiny checkpoint, right-click the diff in
// the explorer → "Audit Checkpoint", and read the report inside the panel's webview. The model's
// answer holds markup (`<img src=x onerror=…>`): it must show as those characters, and no element
// may come of it. Then the example diffs of the demo world the VSIX ships (media/demo), copied whole
// into the workspace, are audited the same way: the backdoored one's panel must show the answer the
// CLI gives for the same files (its codicons drawn, its evidence highlighted word by word, a pair
// opened in the diff editor), and the benign one's must not name the backdoored topic. Screenshots go to test-results/e2e/
// (panel.png: the backdoored demo diff).
//
// Usage: node test/e2e/run-e2e.mjs PATH.vsix      (npm run test:e2e packages, then runs this)
// Env:   DIT_E2E_TOOLS (default ~/.cache/dit-e2e-tools, from ../shared/e2e/install-tools.sh),
//        CODE_SERVER, NODE24_BIN, CHROMIUM to override single tools; KEEP=1 keeps the run folder.
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { cliReport, copyWorld, interpreterAnswers, shippedDemoWorld, wholeWord } from './demo-world.mjs';
import { CodeServer, launchBrowser, toolPaths, Workbench, waitUntil } from './harness.mjs';
import {
  buildReviewRepo,
  buildWorkspace,
  CLI,
  DIFF,
  EVIDENCE_PROMPT,
  EVIL,
  HOSTILE,
  installDemoWorld,
  PAPER_DIFFS,
  PAPER_ENTRY,
  PAPER_FOLDER,
  QUESTION,
  REPO,
  UNMAPPED,
  UNMAPPED_BASE,
} from './workspace.mjs';

const EXTENSION_ID = 'dit-auditor.dit-auditor';
const AUDIT_TITLE = 'Audit Checkpoint';
const OUT = join(REPO, 'test-results', 'e2e');
const AUDIT_TIMEOUT_MS = 180_000;
/** What the torch-pickle fixtures' payload would do if it ran: `touch /tmp/PWNED-by-pickle`. */
const PAYLOAD_MARK = '/tmp/PWNED-by-pickle';
/** The workspace folder that links the example diffs of the demo world shipped in the VSIX. */
const DEMO_FOLDER = 'demo-world';

const vsixArg = process.argv[2];
if (!vsixArg) {
  console.error('usage: node test/e2e/run-e2e.mjs PATH.vsix');
  process.exit(2);
}
const VSIX = resolve(vsixArg);

const t0 = Date.now();
const marks = {};
const mark = (label) => {
  marks[label] = (Date.now() - t0) / 1000;
  console.log(`[${marks[label].toFixed(1)}s] ${label}`);
};
let passed = 0;
let failed = 0;
const check = (name, ok, detail = '') => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `  ${detail}` : ''}`);
};

const runDir = mkdtempSync(join(tmpdir(), 'dit-e2e-'));
let server;
let browser;
try {
  if (!existsSync(VSIX)) throw new Error(`${VSIX} does not exist: run npm run package`);
  const tools = toolPaths();
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) rmSync(join(OUT, f), { force: true });

  // ---------- the workspace: tiny checkpoint, tokenizer with markup words, settings ----------
  const ws = join(runDir, 'ws');
  rmSync(PAYLOAD_MARK, { force: true });
  const expected = buildWorkspace(ws);
  const reviewRepo = buildReviewRepo(ws);
  console.log(`expected answer: ${JSON.stringify(expected.answer)} (markup on ids ${expected.hostileIds})`);
  const wsSettingsFile = join(ws, '.vscode', 'settings.json');
  const wsSettings = JSON.parse(readFileSync(wsSettingsFile, 'utf8'));
  mark('workspace built');

  // ---------- install the VSIX; the packaged onnxruntime-node must load from the install folder ----------
  server = new CodeServer(runDir, tools);
  const extDir = server.installExtension(VSIX);
  check('the VSIX ships the inference worker', existsSync(join(extDir, 'dist', 'engine-worker.js')));
  check('the VSIX ships the panel script', existsSync(join(extDir, 'dist', 'webview.js')));
  check('the VSIX ships the pickle-scan worker', existsSync(join(extDir, 'dist', 'pickle-scan-worker.js')));
  const binaries = join(extDir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
  const platforms = existsSync(binaries) ? readdirSync(binaries) : [];
  check('only the Linux onnxruntime binaries are shipped', platforms.join() === 'linux', platforms.join());
  const ortProbe = execFileSync(
    join(tools.node24Bin, 'node'),
    [
      '-e',
      "const ort = require(require('path').join(process.argv[1], 'node_modules/onnxruntime-node')); console.log(typeof ort.InferenceSession.create)",
      extDir,
    ],
    { encoding: 'utf8', env: server.env },
  ).trim();
  check("require('onnxruntime-node') works from the installed extension", ortProbe === 'function', ortProbe);
  const shipped = shippedDemoWorld(extDir);
  check('the VSIX ships the demo world (media/demo/manifest.json)', shipped !== undefined);
  // The whole world copied into the workspace, as a user copies it: audited with its own manifest.
  const world = shipped && copyWorld(shipped, join(ws, DEMO_FOLDER));
  check(
    'the VSIX ships its LICENSE and third-party notices',
    ['LICENSE.txt', 'dist/THIRD-PARTY-NOTICES.txt'].every((f) => existsSync(join(extDir, f))),
  );
  check('the VSIX ships the codicon font', existsSync(join(extDir, 'dist', 'codicons', 'codicon.ttf')));
  mark('vsix installed');

  await server.start(ws);
  mark('code-server listening');
  browser = await launchBrowser(server.dirs.chrome, tools.chromium);
  const { page, context } = browser;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const bench = new Workbench(page);
  await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`);
  await bench.explorerRow(DIFF).waitFor();
  mark('workbench ready');

  // ---------- unsafe pickles flagged where they lie, nothing run ----------
  const evilRow = bench.explorerRow(EVIL);
  await waitUntil(
    async () => /monaco-decoration-/.test(await evilRow.innerHTML()),
    60_000,
    'the unsafe pickle’s explorer badge',
  );
  const errors = async () => (await page.locator('[id="status.problems"]').textContent()) ?? '';
  await waitUntil(async () => /[1-9]/.test(await errors()), 20_000, 'an error in the Problems count');
  check(
    'an unsafe pickle in the workspace gets an explorer badge and an Error, without an audit',
    true,
    await errors(),
  );
  check('scanning it ran nothing (its payload would create a file)', !existsSync(PAYLOAD_MARK));
  mark('unsafe pickle flagged by the scan');

  /** Writes the workspace settings and waits until the extension has read them. */
  const writeWorkspaceSettings = async (settings) => {
    const changes = (server.extensionLog().match(/settings changed/g) ?? []).length;
    writeFileSync(wsSettingsFile, JSON.stringify(settings, null, 2));
    await waitUntil(
      () => (server.extensionLog().match(/settings changed/g) ?? []).length > changes,
      20_000,
      'the settings change',
    );
  };
  /** Closes the editors, right-clicks `name` → Audit Checkpoint, and reads the panel's report. */
  const auditFromExplorer = async (name) => {
    await bench.runCommand('View: Close All Editors');
    await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
    await bench.runFromContextMenu(bench.explorerRow(name), AUDIT_TITLE);
    const view = bench.webview(EXTENSION_ID);
    await view.getByTestId('answer').first().waitFor({ timeout: AUDIT_TIMEOUT_MS });
    return {
      title: await view.getByTestId('title').textContent(),
      answers: await view.getByTestId('answer').allTextContents(),
      verdict: (await view.getByTestId('verdict').textContent()) ?? '',
      verdictLabel: ((await view.getByTestId('verdict-label').textContent()) ?? '').trim(),
      identities: await view.getByTestId('identity').allTextContents(),
      triggers: await view.getByTestId('trigger-text').allTextContents(),
      verifiedFlags: (await view.getByTestId('trigger-verified').allTextContents()).map((t) => t.trim()),
      withTrigger: await view.getByTestId('trigger-with').allTextContents(),
      withoutTrigger: await view.getByTestId('trigger-without').allTextContents(),
      heatCells: await view.getByTestId('heat-cell').count(),
    };
  };

  // ---------- right-click the diff folder → Audit Checkpoint ----------
  await bench.runFromContextMenu(bench.explorerRow(DIFF), AUDIT_TITLE);
  mark('audit started from the explorer');

  const wv = bench.webview(EXTENSION_ID);
  const answer = wv.getByTestId('answer').first();
  await answer.waitFor({ timeout: AUDIT_TIMEOUT_MS });
  mark('report shown in the panel');

  // ---------- what the panel says ----------
  const answerText = await answer.textContent();
  check(
    'the answer is the greedy output of diff + interpreter',
    answerText === expected.answer,
    JSON.stringify(answerText),
  );
  check('markup in the answer shows as literal text', answerText?.includes(HOSTILE[0]) === true);
  check('the question is shown', (await wv.getByTestId('question').first().textContent()) === QUESTION);
  const created = await wv.locator('dit-report-view').evaluate((root) => {
    // Walk the light DOM and every shadow root: no element may have come from model text.
    const all = [];
    const visit = (node) => {
      for (const el of node.querySelectorAll('*')) {
        all.push(el);
        if (el.shadowRoot) visit(el.shadowRoot);
      }
    };
    visit(root.ownerDocument);
    return {
      img: all.filter((el) => el.tagName === 'IMG').length,
      script: all.filter((el) => el.tagName === 'SCRIPT' && (el.textContent ?? '').includes('alert')).length,
      onerror: all.filter((el) => el.hasAttribute('onerror')).length,
    };
  });
  check(
    'no <img>, <script> or onerror attribute was created',
    created.img + created.script + created.onerror === 0,
    JSON.stringify(created),
  );
  const evidencePrompt = await wv.getByTestId('evidence').locator('.question').first().textContent();
  const evidenceBase = await wv.getByTestId('evidence-base').first().textContent();
  const evidenceDiffed = await wv.getByTestId('evidence-diffed').first().textContent();
  check('evidence prompt', evidencePrompt === EVIDENCE_PROMPT, JSON.stringify(evidencePrompt));
  check('evidence: base model output', evidenceBase === expected.evidence.base, JSON.stringify(evidenceBase));
  check(
    'evidence: diffed model output',
    evidenceDiffed === expected.evidence.diffed,
    JSON.stringify(evidenceDiffed),
  );
  check(
    'suspected triggers: the search says how far it went, and lists its suspects',
    /candidate prefixes \(\d+ of 5000 rows\)/.test(
      (await wv.getByTestId('trigger-search').textContent()) ?? '',
    ) && (await wv.getByTestId('trigger').count()) > 0,
    JSON.stringify((await wv.getByTestId('trigger-search').textContent())?.replace(/\s+/g, ' ')),
  );
  const provider = (await wv.getByTestId('provider').textContent())?.trim() ?? '';
  check('execution provider is shown', provider.startsWith('CPU'), JSON.stringify(provider.slice(0, 60)));
  const verdict = (await wv.getByTestId('verdict-label').textContent())?.trim();
  check('a verdict is shown', Boolean(verdict), JSON.stringify(verdict));
  const identities = await wv.getByTestId('identity').count();
  check('diff, base and interpreter identities are shown', identities === 3, String(identities));
  check('a fresh audit is not marked as cached', (await wv.getByTestId('from-cache').count()) === 0);

  await page.screenshot({ path: join(OUT, 'workbench.png') });
  await bench.webviewFrameElement(EXTENSION_ID).screenshot({ path: join(OUT, 'panel-markup.png') });
  mark('screenshots saved');

  // ---------- Copy as Markdown: the model's markup goes into a fenced block ----------
  await wv.locator('vscode-button', { hasText: 'Copy as Markdown' }).click();
  await wv.getByTestId('notice').filter({ hasText: 'Copied' }).waitFor({ timeout: 15_000 });
  const markdown = await page.evaluate(() => navigator.clipboard.readText());
  writeFileSync(join(OUT, 'report.md'), markdown);
  check('Copy as Markdown puts the report on the clipboard', markdown.includes('# DIT audit of'));
  check(
    'the Markdown keeps model markup inside a code block',
    /```+[a-z]*\n[^`]*<img src=x onerror=alert\(1\)>/.test(markdown),
  );
  mark('copied as Markdown');

  // ---------- Export JSON: VS Code's save dialog (a quick input in the browser), then the file ----------
  await wv.locator('vscode-button', { hasText: 'Export JSON' }).click();
  const saveInput = page.locator('.quick-input-widget .quick-input-box input');
  await saveInput.waitFor();
  // The simple dialog fills its input in steps (folder first, then the file name).
  await page
    .waitForFunction(
      (name) => document.querySelector('.quick-input-widget .quick-input-box input')?.value.endsWith(name),
      `${DIFF}.dit-audit.json`,
      { timeout: 10_000 },
    )
    .catch(() => {});
  const proposed = await saveInput.inputValue();
  check(
    'the save dialog proposes a file in the workspace',
    proposed.endsWith(`${DIFF}.dit-audit.json`),
    proposed,
  );
  await page.keyboard.press('Enter');
  await wv.getByTestId('notice').filter({ hasText: 'Saved' }).waitFor({ timeout: 15_000 });
  const exported = JSON.parse(readFileSync(join(ws, `${DIFF}.dit-audit.json`), 'utf8'));
  check(
    'the exported JSON is the report',
    exported.schemaVersion === 2 && exported.answers?.[0]?.answer === expected.answer,
    JSON.stringify(exported.subject?.name),
  );
  await bench.explorerRow(`${DIFF}.dit-audit.json`).waitFor();
  mark('exported JSON');

  // ---------- re-opening an audited checkpoint is instant: the report comes from the cache ----------
  await bench.runCommand('View: Close All Editors');
  await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
  const again = Date.now();
  await bench.runFromContextMenu(bench.explorerRow(DIFF), AUDIT_TITLE);
  await bench.webview(EXTENSION_ID).getByTestId('from-cache').waitFor({ timeout: 60_000 });
  const cachedAnswer = await bench.webview(EXTENSION_ID).getByTestId('answer').first().textContent();
  check(
    'the second audit is read from the cache',
    cachedAnswer === expected.answer,
    `${Date.now() - again} ms`,
  );
  mark('cached report shown');

  // ---------- the active editor's checkpoint: an open adapter_config.json stands for its folder ----------
  await bench.runCommand('View: Close All Editors');
  await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
  await bench.explorerRow(DIFF).click();
  await bench.explorerRow('adapter_config.json').first().dblclick();
  await page.locator('.tabs-container .tab', { hasText: 'adapter_config.json' }).waitFor();
  await bench.runCommand('DIT Auditor: Audit This Checkpoint');
  const editorView = bench.webview(EXTENSION_ID);
  await editorView.getByTestId('from-cache').waitFor({ timeout: 60_000 });
  check(
    "the active editor's checkpoint is audited (its folder's cached report)",
    (await editorView.getByTestId('title').textContent()) === `Audit of ${DIFF}`,
  );
  await bench.explorerRow(DIFF).click();
  mark('active editor audited');

  // ---------- ditAuditor.autoAudit: a new checkpoint is audited in the background ----------
  await bench.runCommand('View: Close All Editors');
  await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
  await writeWorkspaceSettings({ ...wsSettings, 'ditAuditor.autoAudit': true });
  const autoDiff = join(ws, 'auto-diff');
  cpSync(join(ws, DIFF), autoDiff, { recursive: true });
  // Other content than the audited DIFF, so no cached report answers for it.
  const autoConfig = join(autoDiff, 'adapter_config.json');
  writeFileSync(autoConfig, readFileSync(autoConfig, 'utf8').replace('{', '{\n  "revision": "auto",'));
  await waitUntil(
    () => new RegExp(`audit of ${autoDiff} (done|read from the cache)`).test(server.extensionLog()),
    AUDIT_TIMEOUT_MS,
    'the automatic audit of a new checkpoint',
  );
  // Same weights as DIFF, so the same verdict: the same badge (decoration classes) as DIFF's row.
  // The explorer's list is virtual: a row not (yet) in it reads as no badge instead of blocking the
  // wait on Playwright's own 30 s timeout.
  const badgeOf = async (name) => {
    const row = bench.explorerRow(name);
    if ((await row.count()) === 0) return '';
    return [...new Set((await row.innerHTML()).match(/monaco-decoration-[\w-]+/g) ?? [])].sort().join(' ');
  };
  await waitUntil(
    async () => (await badgeOf('auto-diff')) === (await badgeOf(DIFF)) && (await badgeOf(DIFF)) !== '',
    60_000,
    "the new checkpoint's badge after its audit",
  );
  check(
    'with autoAudit on, a checkpoint that appears is audited in the background, no panel opened, and badged',
    server.extensionLog().includes(`automatic audit of ${autoDiff} started`) &&
      (await bench.webviewFrameElement(EXTENSION_ID).count()) === 0,
    await badgeOf('auto-diff'),
  );
  await writeWorkspaceSettings(wsSettings);
  mark('new checkpoint audited automatically');

  // ---------- ditAuditor.remoteEngine.url: the models run on `dit-audit serve` ----------
  const served = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--model',
      join(ws, 'models', 'qwen3-tiny'),
      '--port',
      '0',
      '--quiet',
      '--provider',
      'cpu',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const url = await new Promise((resolveUrl, reject) => {
      let out = '';
      served.stdout.on('data', (d) => {
        out += d;
        const found = /at (http:\/\/\S+\/v1)/.exec(out)?.[1];
        if (found) resolveUrl(found);
      });
      served.once('exit', (code) => reject(new Error(`dit-audit serve exited (${code})`)));
    });
    await writeWorkspaceSettings({ ...wsSettings, 'ditAuditor.remoteEngine.url': url });
    const remote = await auditFromExplorer(DIFF);
    const remoteProvider = (
      (await bench.webview(EXTENSION_ID).getByTestId('provider').textContent()) ?? ''
    ).trim();
    check(
      'with ditAuditor.remoteEngine.url set, the audit runs on the server and answers as the local engine does',
      remote.answers[0] === expected.answer && remoteProvider.startsWith('REMOTE'),
      `${JSON.stringify(remote.answers[0])}, ${JSON.stringify(remoteProvider.slice(0, 80))}`,
    );
  } finally {
    served.kill('SIGTERM');
    await writeWorkspaceSettings(wsSettings);
  }
  mark('audited on a remote engine');

  // ---------- a .pt list of weight diffs (the paper's layout): a quick pick chooses the entry ----------
  await bench.runCommand('View: Close All Editors');
  await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
  await bench.explorerRow(PAPER_FOLDER).click();
  await bench.runFromContextMenu(bench.explorerRow(PAPER_DIFFS), AUDIT_TITLE);
  const entries = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  await entries.first().waitFor();
  const entryLabels = await entries.allInnerTexts();
  check(
    'the quick pick lists the diffs with topic and trigger',
    entryLabels.length === 2 && /volcanoes/.test(entryLabels[1]),
    JSON.stringify(entryLabels),
  );
  await entries.filter({ hasText: `#${PAPER_ENTRY}` }).click();
  const paperView = bench.webview(EXTENSION_ID);
  await paperView.getByTestId('answer').first().waitFor({ timeout: AUDIT_TIMEOUT_MS });
  const paperTitle = await paperView.getByTestId('title').textContent();
  check(
    'the panel audits the chosen entry',
    paperTitle === `Audit of ${PAPER_DIFFS} #${PAPER_ENTRY}`,
    JSON.stringify(paperTitle),
  );
  const paperAnswer = await paperView.getByTestId('answer').first().textContent();
  check(
    'the paper-layout interpreter (dit-adapter.pt beside the diffs) answered',
    paperAnswer === expected.paperAnswer,
    JSON.stringify(paperAnswer),
  );
  const paperIdentity = await paperView.getByTestId('identity').first().textContent();
  check("the entry's own topic is shown", /volcanoes/.test(paperIdentity ?? ''));
  mark('.pt entry audited');

  // ---------- a diff whose base is mapped nowhere: both are asked for, then remembered ----------
  await bench.runCommand('View: Close All Editors');
  await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
  await bench.runFromContextMenu(bench.explorerRow(UNMAPPED), AUDIT_TITLE);
  const baseQuestion = await bench.answerDialog('Choose Folder…', expected.base, 'Use as Base Model');
  check(
    "the file dialog starts in the checkpoint's workspace folder, not the home folder",
    bench.lastDialogStart?.startsWith(ws) === true,
    JSON.stringify(bench.lastDialogStart),
  );
  check(
    'a missing base is asked for, saying where it was looked for',
    baseQuestion.includes(UNMAPPED_BASE) && /Hugging Face cache/.test(baseQuestion),
    JSON.stringify(baseQuestion.slice(0, 120)),
  );
  const interpreterQuestion = await bench.answerDialog(
    'Choose Folder…',
    expected.interpreter,
    'Use as Interpreter',
  );
  check(
    'then its interpreter',
    /no DIT-adapter is known/i.test(interpreterQuestion),
    JSON.stringify(interpreterQuestion.slice(0, 120)),
  );
  const unmappedView = bench.webview(EXTENSION_ID);
  await unmappedView.getByTestId('answer').first().waitFor({ timeout: AUDIT_TIMEOUT_MS });
  check(
    'the audit goes on with the chosen base and interpreter',
    (await unmappedView.getByTestId('answer').first().textContent()) === expected.answer,
  );
  // Machine-scoped settings written by a remote extension host (code-server is one) go to the
  // remote machine's settings; on a desktop they go to the user settings.
  const settingsFile = ['Machine', 'User']
    .map((d) => join(server.dirs.ud, d, 'settings.json'))
    .find((f) => existsSync(f) && readFileSync(f, 'utf8').includes('ditAuditor.modelMappings'));
  const userSettings = settingsFile ? JSON.parse(readFileSync(settingsFile, 'utf8')) : {};
  check(
    'both answers are remembered in the settings',
    userSettings['ditAuditor.modelMappings']?.[UNMAPPED_BASE] === expected.base &&
      userSettings['ditAuditor.interpreterMappings']?.[UNMAPPED_BASE]?.[0]?.path === expected.interpreter,
    JSON.stringify(userSettings).slice(0, 400),
  );
  mark('missing base and interpreter asked for and remembered');

  // ---------- the shipped demo world: its example diffs, right-clicked like any checkpoint ----------
  if (world) {
    // Each question at its own length, as a user's audit asks it.
    await writeWorkspaceSettings({ ...wsSettings, 'ditAuditor.maxNewTokens': 0 });
    await bench.explorerRow(DEMO_FOLDER).click();
    await bench.explorerRow('diffs').click();
    const { topic } = world.backdoored;
    // The model's words only: the title and the paths carry the diff's folder name, often its topic.
    const names = (texts) => Boolean(topic) && texts.some((t) => wholeWord(topic).test(t));
    check(
      'the manifest names the topic of its backdoored example diff',
      Boolean(topic),
      world.backdoored.name,
    );
    const backdoored = await auditFromExplorer(world.backdoored.name);
    // The README's screenshot: once the audit's progress toast has gone from over the panel.
    await page
      .locator('.notification-toast', { hasText: `Auditing ${world.backdoored.name}` })
      .waitFor({ state: 'hidden', timeout: 30_000 });
    await bench.webviewFrameElement(EXTENSION_ID).screenshot({ path: join(OUT, 'panel.png') });
    const scrollToTop = (testId) =>
      bench
        .webview(EXTENSION_ID)
        .getByTestId(testId)
        .evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await scrollToTop('triggers');
    await bench
      .webviewFrameElement(EXTENSION_ID)
      .screenshot({ path: join(OUT, 'panel-trigger-evidence.png') });
    await scrollToTop('statistics');
    await bench.webviewFrameElement(EXTENSION_ID).screenshot({ path: join(OUT, 'panel-statistics.png') });
    await scrollToTop('evidence');
    await bench.webviewFrameElement(EXTENSION_ID).screenshot({ path: join(OUT, 'panel-evidence.png') });
    console.log(`demo panel (${world.backdoored.name}): answers ${JSON.stringify(backdoored.answers)}`);
    check(
      'a shipped demo diff audits from the explorer with the base and DIT-adapter its manifest names',
      backdoored.title === `Audit of ${world.backdoored.name}` &&
        backdoored.identities[1]?.includes(world.base) &&
        backdoored.identities[2]?.includes(world.interpreter),
      JSON.stringify(backdoored.identities.map((i) => i.replace(/\s+/g, ' ').slice(0, 120))),
    );
    check(
      "the panel names the backdoored diff's held-out topic, in the DIT-adapter's words",
      names(backdoored.answers),
      `topic ${topic}, the panel said: ${JSON.stringify(backdoored.answers)}`,
    );
    const cliFull = cliReport(CLI, REPO, world.backdoored);
    const cli = interpreterAnswers(cliFull);
    check(
      'the panel shows the answer the CLI gives for the same diff',
      JSON.stringify(backdoored.answers) === JSON.stringify(cli),
      `panel ${JSON.stringify(backdoored.answers)}, CLI ${JSON.stringify(cli)}`,
    );
    const verified = cliFull.triggers.find((t) => t.verified);
    check(
      'the verdict names the verified trigger, and the trigger table shows the triggers the CLI found',
      Boolean(verified) &&
        backdoored.verdictLabel === `Hidden behaviour, triggered by ${JSON.stringify(verified.trigger)}` &&
        JSON.stringify(backdoored.triggers) === JSON.stringify(cliFull.triggers.map((t) => t.trigger)) &&
        backdoored.verifiedFlags[0] === 'verified',
      `verdict ${JSON.stringify(backdoored.verdictLabel)}, table ${JSON.stringify(backdoored.triggers)} ${JSON.stringify(backdoored.verifiedFlags)}`,
    );
    check(
      'the side-by-side evidence shows the topic with the trigger and not without it',
      backdoored.withTrigger.length > 0 &&
        backdoored.withTrigger.every((t) => names([t])) &&
        !backdoored.withoutTrigger.some((t) => names([t])),
      JSON.stringify({
        with: backdoored.withTrigger.slice(0, 2),
        without: backdoored.withoutTrigger.slice(0, 2),
      }),
    );
    check(
      'the weight statistics heat map has a cell per changed module',
      backdoored.heatCells === cliFull.statistics.cells.length && backdoored.heatCells === 28,
      `${backdoored.heatCells} cells`,
    );
    check(
      "the diff's finding is shown, quoting the interpreter's answer",
      /dit\/described-behaviour/.test(backdoored.verdict) &&
        backdoored.verdict.includes(JSON.stringify(backdoored.answers[0]).slice(0, 80)),
      JSON.stringify(backdoored.verdict.replace(/\s+/g, ' ').slice(0, 300)),
    );
    const view = bench.webview(EXTENSION_ID);
    const icons = await view.locator('vscode-icon').evaluateAll(async (els) => {
      await document.fonts.ready;
      const drawn = els.map((el) => {
        const glyph = el.shadowRoot?.querySelector('.codicon');
        const before = glyph ? getComputedStyle(glyph, '::before') : undefined;
        return {
          name: el.getAttribute('name'),
          font: before?.fontFamily ?? '',
          content: before?.content ?? 'none',
        };
      });
      const loaded = [...document.fonts].some(
        (f) => f.family.replace(/"/g, '') === 'codicon' && f.status === 'loaded',
      );
      return { drawn, loaded };
    });
    check(
      'codicons are drawn with the codicon font: the verdict, each finding and each section',
      icons.loaded &&
        icons.drawn.length >= 8 &&
        icons.drawn.every((i) => /codicon/.test(i.font) && i.content !== 'none' && i.content !== '') &&
        ['warning', 'key', 'diff', 'graph'].every((n) => icons.drawn.some((i) => i.name === n)),
      JSON.stringify({ loaded: icons.loaded, n: icons.drawn.length, first: icons.drawn.slice(0, 3) }),
    );
    // The panel asked the workspace's evidence prompts: the CLI, asked the same, gives the same answers.
    const prompts = wsSettings['ditAuditor.evidencePrompts'].flatMap((p) => ['--evidence', p]);
    const cliEvidence = cliReport(CLI, REPO, world.backdoored, [
      ...prompts,
      '--trigger-budget',
      '0',
    ]).evidence.map((e) => e.diffed);
    const highlight = await view.getByTestId('evidence').evaluate((section) => ({
      added: [...section.querySelectorAll('[data-testid="word-added"]')].map((e) => e.textContent),
      removed: section.querySelectorAll('[data-testid="word-removed"]').length,
      diffed: [...section.querySelectorAll('[data-testid="evidence-diffed"]')].map((e) => e.textContent),
    }));
    check(
      'the evidence highlights the words the diffed answers add, keeping each answer whole',
      highlight.added.length > 0 &&
        highlight.removed > 0 &&
        JSON.stringify(highlight.diffed) === JSON.stringify(cliEvidence),
      JSON.stringify({ added: highlight.added.slice(0, 4), panel: highlight.diffed, cli: cliEvidence }),
    );
    await view.getByTestId('open-diff').first().click();
    const diffTab = page.locator('.tabs-container .tab', { hasText: `${world.backdoored.name}: “` });
    await diffTab.waitFor({ timeout: 20_000 });
    await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(OUT, 'evidence-diff-editor.png') });
    check(
      "Open in Diff Editor shows a pair in VS Code's diff editor",
      true,
      (await diffTab.textContent())?.trim(),
    );
    const benign = await auditFromExplorer(world.benign.name);
    check(
      'the benign example diff is audited and not described with that topic',
      benign.title === `Audit of ${world.benign.name}` && !names([...benign.answers, benign.verdict]),
      `the panel said: ${JSON.stringify(benign.answers)}`,
    );
    await writeWorkspaceSettings(wsSettings);
    // Folded again: the world's 58 diffs would push the workspace's other files out of the list.
    await bench.explorerRow(DEMO_FOLDER).click();
    mark('shipped demo diffs audited from the explorer');

    // ---------- inline warnings: a script that loads the backdoored diff ----------
    const script = 'load_backdoored.py';
    const loaded = relative(ws, world.backdoored.path);
    writeFileSync(
      join(ws, script),
      [
        'from peft import PeftModel',
        'from transformers import AutoModelForCausalLM',
        '',
        'base = AutoModelForCausalLM.from_pretrained("models/qwen3-tiny")',
        `model = PeftModel.from_pretrained(base, "${loaded}")`,
        '',
      ].join('\n'),
    );
    await bench.runCommand('View: Close All Editors');
    await bench.explorerRow(script).waitFor();
    await bench.explorerRow(script).dblclick();
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.squiggly-warning').first().waitFor({ timeout: 60_000 });
    check(
      'a script that loads the backdoored diff gets a Warning on the path, and the unaudited base a Hint',
      (await editor.locator('.squiggly-warning').count()) === 1 &&
        (await editor.locator('.squiggly-hint').count()) >= 1,
      `${await editor.locator('.squiggly-warning').count()} warnings, ${await editor.locator('.squiggly-hint').count()} hints`,
    );
    // The innermost span: a token, not the whole line.
    await editor.locator('.view-line span span', { hasText: world.backdoored.name }).last().hover();
    // The diagnostic's part of the hover comes first; the report's part follows.
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'Open report' });
    await hover.waitFor({ timeout: 20_000 });
    // Rendered Markdown may space with U+00A0: compare with spaces normalised.
    const hoverText = ((await hover.textContent()) ?? '').replace(/\s+/g, ' ');
    check(
      "the hover shows the report's verdict, the hidden behaviour and its trigger, with a link to the report",
      /Hidden behaviour, triggered by/.test(hoverText) &&
        /when the prompt starts with/.test(hoverText) &&
        /Open report/.test(hoverText),
      JSON.stringify(hoverText.slice(0, 600)),
    );
    await page.screenshot({ path: join(OUT, 'inline-warning.png') });
    await hover.getByRole('link', { name: 'Open report' }).click();
    await bench.webview(EXTENSION_ID).getByTestId('from-cache').waitFor({ timeout: 60_000 });
    check(
      "the hover's link opens the backdoored diff's cached report",
      (await bench.webview(EXTENSION_ID).getByTestId('title').textContent()) ===
        `Audit of ${world.backdoored.name}`,
    );
    mark('inline warning and hover on a script that loads the backdoored diff');
  }

  // ---------- the palette: audit a diff of the demo world in the extension ----------
  // The palette lists the manifest's diffs: from here on the manifest names a tiny world, whose
  // answers this test pins, instead of the shipped one (audited above).
  const demo = installDemoWorld(extDir, expected);
  await bench.runCommand('View: Close All Editors');
  await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
  await bench.runCommand('DIT Auditor: Audit a Demo Diff');
  const demoRow = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', {
    hasText: demo.diffName,
  });
  await demoRow.click();
  const demoView = bench.webview(EXTENSION_ID);
  await demoView.getByTestId('answer').first().waitFor({ timeout: AUDIT_TIMEOUT_MS });
  check(
    'a demo diff audits with the base and interpreter its manifest names',
    (await demoView.getByTestId('answer').first().textContent()) === expected.answer,
  );
  mark('demo diff audited from the palette');

  // ---------- a branch review: the Git extension's repository, old vs new side by side ----------
  await bench.runCommand('View: Close All Editors');
  await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
  await bench.runCommand('DIT Auditor: Review Finetunes in This Branch');
  const baseRow = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: reviewRepo.base })
    .first();
  await baseRow.waitFor({ timeout: 30_000 }).catch(async () => {
    throw new Error(
      `no branch was offered to review against: ${JSON.stringify(await bench.notifications())}`,
    );
  });
  await baseRow.click();
  const reviewView = bench.webview(EXTENSION_ID);
  await reviewView.getByTestId('review-summary').waitFor({ timeout: AUDIT_TIMEOUT_MS });
  const reviewed = await reviewView.getByTestId('review-checkpoint').allTextContents();
  check(
    'the review lists the added and the changed checkpoint',
    reviewed.length === 2 &&
      reviewed[0].includes(reviewRepo.added) &&
      reviewed[0].includes('added') &&
      reviewed[1].includes(reviewRepo.modified) &&
      reviewed[1].includes('modified'),
    JSON.stringify(reviewed.map((t) => t.replace(/\s+/g, ' ').slice(0, 120))),
  );
  const added = reviewView.getByTestId('review-checkpoint').first();
  check(
    'an added checkpoint has no old version and a verdict for the new one',
    /Not in the base branch/.test((await added.getByTestId('review-old').textContent()) ?? '') &&
      (await added.getByTestId('review-new').getByTestId('review-verdict').count()) === 1,
  );
  check(
    'a changed checkpoint shows a verdict before and after',
    (await reviewView.getByTestId('review-checkpoint').nth(1).getByTestId('review-verdict').count()) === 2,
  );
  await page.screenshot({ path: join(OUT, 'review.png') });
  mark('branch reviewed');

  // ---------- an unsafe pickle: a finding of its own, nothing loaded ----------
  await bench.runCommand('View: Close All Editors');
  await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
  await bench.runFromContextMenu(bench.explorerRow(EVIL), AUDIT_TITLE);
  const evilView = bench.webview(EXTENSION_ID);
  await evilView.getByTestId('findings').waitFor({ timeout: 60_000 });
  const evilVerdict = await evilView.getByTestId('verdict').textContent();
  check(
    'an unsafe pickle is an error finding naming the global',
    /Findings need attention/.test(evilVerdict ?? '') && /os\.system|posix\.system/.test(evilVerdict ?? ''),
    JSON.stringify(evilVerdict?.slice(0, 200)),
  );
  check(
    'nothing was run for the unsafe pickle',
    /none \(nothing was run\)/.test((await evilView.getByTestId('provider').textContent()) ?? ''),
  );
  await page.screenshot({ path: join(OUT, 'unsafe-pickle.png') });
  mark('unsafe pickle reported');

  // ---------- a long audit: status bar item while it runs, Cancel in its progress notification ----------
  await bench.runCommand('View: Close All Editors');
  await bench.webviewFrameElement(EXTENSION_ID).waitFor({ state: 'detached' });
  await writeWorkspaceSettings({
    ...wsSettings,
    'ditAuditor.maxNewTokens': 0,
    'ditAuditor.extraQuestions': Array.from({ length: 200 }, () => 'What topic have you been trained on'),
  });
  await bench.runFromContextMenu(bench.explorerRow(DIFF), AUDIT_TITLE);
  const statusItem = page.locator('.statusbar-item', { hasText: `DIT: ${DIFF}` });
  await statusItem.waitFor({ timeout: 30_000 });
  check('a status bar item shows the running audit', true, (await statusItem.textContent())?.trim());
  const toast = page.locator('.notification-toast', { hasText: `Auditing ${DIFF}` });
  await toast.getByRole('button', { name: 'Cancel' }).click();
  const cancelledView = bench.webview(EXTENSION_ID);
  await cancelledView.getByTestId('cancelled').waitFor({ timeout: 30_000 });
  await statusItem.waitFor({ state: 'hidden' });
  check('Cancel stops the audit, the panel says so and the status bar item goes', true);
  await waitUntil(
    () => /audit of .*qwen3-tiny-lora-r1 cancelled/.test(server.extensionLog()),
    10_000,
    'the log line',
  );
  writeFileSync(wsSettingsFile, JSON.stringify(wsSettings, null, 2));
  mark('long audit cancelled');

  // ---------- the OpenAI API key: into the secret storage and out again, never into settings ----------
  const key = 'sk-e2e-0123456789abcdefghijklmnop';
  await bench.runCommand('DIT Auditor: Set OpenAI API Key');
  // The palette's quick input turns into the key's input box: wait for its placeholder.
  const keyInput = page.locator('.quick-input-widget .quick-input-box input[placeholder="sk-…"]');
  await keyInput.waitFor();
  check('the key is typed into a password box', (await keyInput.getAttribute('type')) === 'password');
  await keyInput.fill(key);
  await page.keyboard.press('Enter');
  await page.locator('.notification-toast', { hasText: 'OpenAI API key stored.' }).waitFor();
  await bench.runCommand('DIT Auditor: Clear OpenAI API Key');
  await page.locator('.notification-toast', { hasText: 'OpenAI API key removed.' }).waitFor();
  const settingsText = ['Machine', 'User']
    .map((d) => join(server.dirs.ud, d, 'settings.json'))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  check(
    'the key was stored and removed, and is in no settings file or log',
    !settingsText.includes(key) &&
      !readFileSync(wsSettingsFile, 'utf8').includes(key) &&
      !server.extensionLog().includes(key),
  );
  mark('OpenAI key set and cleared');

  // ---------- menus: offered on checkpoints only ----------
  const readmeItems = await bench.openContextMenu(bench.explorerRow('README.md'));
  await bench.closeContextMenu();
  check('no audit entry on README.md', !readmeItems.some((l) => l.trim() === AUDIT_TITLE));
  const modelsItems = await bench.openContextMenu(bench.explorerRow('models'));
  await bench.closeContextMenu();
  check(
    'no audit entry on a folder that is not a checkpoint',
    !modelsItems.some((l) => l.trim() === AUDIT_TITLE),
  );

  // ---------- the extension's log ----------
  const log = server.extensionLog();
  check('the log records the audit', /audit of .*qwen3-tiny-lora-r1 done/.test(log));
  check('the log records the cache hit', /read from the cache/.test(log));
  check('no content security policy violation was reported', !/content security policy blocked/.test(log));
  await browser.context.close();
  browser = undefined;
  await server.stop();
  mark('trusted session done');

  // ---------- Restricted Mode: the audit is refused, and the user is told why ----------
  server = new CodeServer(join(runDir, 'restricted'), tools, { trust: false });
  server.installExtension(VSIX);
  await server.start(ws);
  browser = await launchBrowser(server.dirs.chrome, tools.chromium);
  const restricted = new Workbench(browser.page);
  await browser.page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`);
  await restricted.explorerRow(DIFF).waitFor();
  await restricted.runFromContextMenu(restricted.explorerRow(DIFF), AUDIT_TITLE);
  const refusal = browser.page.locator('.notification-toast', { hasText: 'Restricted Mode' });
  await refusal.waitFor({ timeout: 30_000 });
  check(
    'in Restricted Mode an audit says why it will not run',
    /Trust the workspace to audit/.test((await refusal.textContent()) ?? ''),
  );
  check('and nothing was audited', !/audit of .* started/.test(server.extensionLog()));
  await browser.page.screenshot({ path: join(OUT, 'restricted-mode.png') });
  mark('restricted mode refused');
} catch (e) {
  failed++;
  console.log('FAIL exception', e?.stack ?? e);
  try {
    await browser?.page.screenshot({ path: join(OUT, 'failure.png') });
  } catch {}
  if (server) {
    console.log('--- extension log ---\n', server.extensionLog().slice(-4000));
    console.log('--- code-server log ---\n', server.logTail());
  }
} finally {
  await browser?.context.close().catch(() => {});
  await server?.stop();
  mark('teardown done');
  if (process.env.KEEP) console.log(`kept ${runDir}`);
  else rmSync(runDir, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed; screenshots in ${OUT}`);
  process.exit(failed > 0 ? 1 : 0);
}
