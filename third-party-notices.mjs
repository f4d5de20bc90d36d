// Writes dist/THIRD-PARTY-NOTICES.txt: the license of every package esbuild bundled into dist/ (read
// from the bundles' metafiles) and of onnxruntime-node, which the VSIX ships as it is. The VSIX
// carries this file and LICENSE (.vscodeignore).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Packages shipped beside the bundles, not in them (esbuild leaves them external; the build copies the codicon font). */
const SHIPPED_AS_IS = ['onnxruntime-node', 'onnxruntime-common', '@vscode/codicons'];
const LICENSE_FILE = /^(licen[cs]e|copying)(\.(md|txt))?$/i;
/** The MIT text of this project's own LICENSE, for a package that states MIT but ships no text. */
const MIT_BODY = readFileSync('LICENSE', 'utf8').split('\n').slice(3).join('\n');
/** Whose copyright an MIT package without a license file carries (its repository's LICENSE). */
const COPYRIGHT = {
  'onnxruntime-node': 'Microsoft Corporation',
  'onnxruntime-common': 'Microsoft Corporation',
};
const ORT_NATIVE =
  'libonnxruntime.so, shipped with onnxruntime-node, also contains third-party components. Microsoft ' +
  'publishes their notices in ThirdPartyNotices.txt of the onnxruntime repository at the release ' +
  '(https://github.com/microsoft/onnxruntime/blob/v{version}/ThirdPartyNotices.txt); the npm package ' +
  'does not include that file.';

/** The package folders (node_modules/NAME or node_modules/@SCOPE/NAME) of a metafile's inputs. */
function packagesOf(metafile) {
  const roots = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const at = input.lastIndexOf('node_modules/');
    if (at < 0) continue;
    const parts = input.slice(at + 'node_modules/'.length).split('/');
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    roots.add(`${input.slice(0, at)}node_modules/${name}`);
  }
  return roots;
}

function notice(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = readdirSync(dir).find((f) => LICENSE_FILE.test(f));
  let text;
  if (file) text = readFileSync(join(dir, file), 'utf8').trim();
  else if (pkg.license === 'MIT' && COPYRIGHT[pkg.name])
    text = `MIT License\n\nCopyright (c) ${COPYRIGHT[pkg.name]}\n\n${MIT_BODY.trim()}`;
  else
    throw new Error(
      `${pkg.name} ships no license file and none is known for it: add it to third-party-notices.mjs`,
    );
  const native = pkg.name === 'onnxruntime-node' ? `\n\n${ORT_NATIVE.replace('{version}', pkg.version)}` : '';
  return { name: pkg.name, text: `${pkg.name} ${pkg.version} (${pkg.license})\n\n${text}${native}` };
}

export function writeThirdPartyNotices(metafiles, out) {
  const dirs = new Set(SHIPPED_AS_IS.map((name) => join('node_modules', name)));
  for (const metafile of metafiles) for (const dir of packagesOf(metafile)) dirs.add(dir);
  const notices = [...dirs]
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map(notice)
    .sort((a, b) => a.name.localeCompare(b.name));
  const rule = `\n\n${'-'.repeat(78)}\n\n`;
  const head = 'dit-auditor ships the following third-party software, under these licenses.';
  writeFileSync(out, `${head}${rule}${notices.map((n) => n.text).join(rule)}\n`);
}
