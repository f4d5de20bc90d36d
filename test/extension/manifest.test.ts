// package.json's contributions against the code: every command contributed is registered and the
// other way round, menus name real commands, settings read are settings declared, the file menu's
// `when` clause matches the file kinds the code audits, and the VSIX keeps what runs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuestionKind } from '../../src/audit/report';
import { CHECKPOINT_FILE_EXTENSIONS } from '../../src/engine/checkpoint/classify';
import { PROVIDER_PREFERENCES } from '../../src/engine/runtime/providers';
import { readSettings } from '../../src/extension/settings';

const ROOT = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const contributed: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('package.json contributions', () => {
  it('registers every contributed command, and contributes every registered one', () => {
    const code = sources(join(ROOT, 'src/extension/commands'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const registered = new Set(
      [...code.matchAll(/registerCommand\(\s*(?:'([^']+)'|(\w+))/g)].map(([, literal, constant]) => {
        if (literal) return literal;
        const m = new RegExp(`const ${constant} = '([^']+)'`).exec(code);
        if (!m) throw new Error(`cannot resolve ${constant}`);
        return m[1];
      }),
    );
    expect([...registered].sort()).toEqual([...contributed].sort());
  });

  it('names only contributed commands in its menus', () => {
    for (const [menu, items] of Object.entries(
      pkg.contributes.menus as Record<string, { command: string }[]>,
    )) {
      for (const item of items) expect(contributed, `${menu}: ${item.command}`).toContain(item.command);
    }
  });

  it('declares every setting the extension reads', () => {
    const read: string[] = [];
    readSettings((key) => {
      read.push(key);
      return undefined;
    });
    const declared = Object.keys(pkg.contributes.configuration.properties);
    expect(read.map((k) => `ditAuditor.${k}`).sort()).toEqual(declared.sort());
    for (const key of pkg.capabilities.untrustedWorkspaces.restrictedConfigurations)
      expect(declared).toContain(key);
  });

  it('offers in its settings exactly the choices the code lists', () => {
    const properties = pkg.contributes.configuration.properties;
    expect(properties['ditAuditor.executionProvider'].enum).toEqual([...PROVIDER_PREFERENCES]);
    const spec = properties['ditAuditor.interpreterMappings'].additionalProperties.items;
    expect(spec.properties.questionKind.enum).toEqual(QuestionKind.options);
  });

  it('offers the explorer file menu on exactly the file kinds the auditor reads', () => {
    const fileMenu = pkg.contributes.menus['explorer/context'].find((m: { when: string }) =>
      m.when.includes('!explorerResourceIsFolder'),
    );
    const pattern = /resourceExtname =~ \/(.+)\/$/.exec(fileMenu.when);
    expect(pattern).not.toBeNull();
    const re = new RegExp((pattern as RegExpExecArray)[1]);
    for (const ext of CHECKPOINT_FILE_EXTENSIONS) expect(re.test(ext), ext).toBe(true);
    for (const ext of ['.json', '.safetensors.bak', '.ptx', '.md', 'pt'])
      expect(re.test(ext), ext).toBe(false);
  });

  it('offers the folder menu through the context key the scanner sets', () => {
    const folderMenu = pkg.contributes.menus['explorer/context'].find((m: { when: string }) =>
      m.when.startsWith('explorerResourceIsFolder'),
    );
    const scanner = readFileSync(join(ROOT, 'src/extension/auditable-folders.ts'), 'utf8');
    const key = /AUDITABLE_FOLDERS_KEY = '([^']+)'/.exec(scanner)?.[1];
    expect(folderMenu.when).toBe(`explorerResourceIsFolder && resourcePath in ${key}`);
  });

  it('targets a VS Code no newer than @types/vscode allows vsce to package', () => {
    const engine = /^\^(\d+)\.(\d+)\./.exec(pkg.engines.vscode);
    const types = /(\d+)\.(\d+)\./.exec(pkg.devDependencies['@types/vscode']);
    expect(engine).not.toBeNull();
    expect(types).not.toBeNull();
    const [, eMajor, eMinor] = (engine as RegExpExecArray).map(Number);
    const [, tMajor, tMinor] = (types as RegExpExecArray).map(Number);
    expect(tMajor * 1000 + tMinor).toBeLessThanOrEqual(eMajor * 1000 + eMinor);
    expect(eMajor * 1000 + eMinor).toBeLessThanOrEqual(1139);
  });

  it('turns audits off, with a reason, in untrusted workspaces', () => {
    expect(pkg.capabilities.untrustedWorkspaces.supported).toBe('limited');
    expect(pkg.capabilities.untrustedWorkspaces.description).toMatch(/Restricted Mode/);
  });
});

describe('.vscodeignore', () => {
  const rules = readFileSync(join(ROOT, '.vscodeignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('starts from nothing and brings back what runs', () => {
    expect(rules[0]).toBe('**');
    expect(pkg.main).toBe('./dist/extension.js');
    for (const path of [
      'dist/extension.js',
      'dist/engine-worker.js',
      'dist/quantize-worker.js',
      'dist/webview.js',
      'media/demo/**',
    ])
      expect(rules).toContain(`!${path}`);
  });

  it('ships onnxruntime-node for Linux x64 only, with onnxruntime-common as CommonJS', () => {
    const binaries = rules.filter((r) => r.includes('onnxruntime-node/bin'));
    expect(binaries).toEqual(['!node_modules/onnxruntime-node/bin/napi-v6/linux/x64/**']);
    expect(rules).toContain('!node_modules/onnxruntime-common/dist/cjs/package.json');
    expect(pkg.scripts.package).toContain('--target linux-x64');
  });

  it('ships the license and the notices of every package the build bundled or ships beside it', () => {
    expect(rules).toContain('!LICENSE');
    expect(rules).toContain('!dist/THIRD-PARTY-NOTICES.txt');
    const notices = readFileSync(join(ROOT, 'dist', 'THIRD-PARTY-NOTICES.txt'), 'utf8');
    for (const name of [
      ...Object.keys(pkg.dependencies),
      'lit',
      '@vscode-elements/elements',
      'onnxruntime-common',
    ])
      expect(notices).toMatch(new RegExp(`^${name.replace('/', '\\/')} \\d+\\.\\d+\\.\\d+ \\(`, 'm'));
    expect(notices).toMatch(/ThirdPartyNotices\.txt/);
    expect(notices).toMatch(/^@vscode\/codicons \d/m);
  });

  it('ships the extension icon, the tab icons and the codicon font the panels draw with', () => {
    expect(pkg.icon).toBe('media/icon.png');
    for (const path of ['media/icon.png', 'media/icons/**', 'dist/codicons/**'])
      expect(rules).toContain(`!${path}`);
    for (const file of ['codicon.css', 'codicon.ttf'])
      expect(existsSync(join(ROOT, 'dist', 'codicons', file))).toBe(true);
    expect(readFileSync(join(ROOT, 'media/icon.png')).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('install scripts', () => {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));

  it('are each allowed or denied in package.json, so that npm ci has nothing to warn about', () => {
    expect(Object.keys(pkg.allowScripts).sort()).toEqual([...new Set(withScripts)].sort());
  });

  it("deny onnxruntime-node's, which would fetch the CUDA provider on every Linux install", () => {
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    expect(existsSync(join(ROOT, '.npmrc'))).toBe(false);
  });
});
