// The audit core's resolver as the extension configures it: the mappings and caches from the
// settings, the user asked when they say nothing, and the answer written back to the settings.
import * as vscode from 'vscode';
import { type InterpreterSpec, ModelResolver } from '../audit/index';
import { TOPIC_QUESTION } from '../audit/questions';
import { describeError, type Log } from './log';
import { askForPath } from './resolver-prompts';
import { type AuditorSettings, SECTION } from './settings';

export function resolverFor(settings: AuditorSettings, log: Log): ModelResolver {
  return new ModelResolver({
    modelMappings: settings.modelMappings,
    interpreterMappings: settings.interpreterMappings,
    hfCacheDirs: settings.huggingFaceCacheFolders.length > 0 ? settings.huggingFaceCacheFolders : undefined,
    ask: (q) => askForPath(q),
    remember: (kind, name, path) => rememberAnswer(kind, name, path, log),
    hints: {
      base: `map it to a folder in the "${SECTION}.modelMappings" setting`,
      interpreter: `map the base to its DIT-adapters in the "${SECTION}.interpreterMappings" setting`,
    },
  });
}

/**
 * An answer the user gave is written to the settings, where it can be seen and changed: the user
 * settings, or with a remote extension host the remote machine's (these are machine-scoped paths).
 */
async function rememberAnswer(
  kind: 'base' | 'interpreter',
  name: string,
  path: string,
  log: Log,
): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const key = kind === 'base' ? 'modelMappings' : 'interpreterMappings';
  try {
    if (kind === 'base') {
      const current = config.inspect<Record<string, string>>(key)?.globalValue ?? {};
      await config.update(key, { ...current, [name]: path }, vscode.ConfigurationTarget.Global);
    } else {
      const current = config.inspect<Record<string, InterpreterSpec[]>>(key)?.globalValue ?? {};
      const spec: InterpreterSpec = { path, question: TOPIC_QUESTION, questionKind: 'topic' };
      await config.update(key, { ...current, [name]: [spec] }, vscode.ConfigurationTarget.Global);
    }
    log.info(`remembered ${kind} ${name} → ${path} in the settings (${SECTION}.${key})`);
  } catch (e) {
    log.warn(`could not remember ${kind} ${name} → ${path}: ${describeError(e)}`);
  }
}
