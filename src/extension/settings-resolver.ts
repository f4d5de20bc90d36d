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
    remember: (kind, key, path) => rememberAnswer(kind, key, path, log),
    hints: {
      base: `map it to a folder in the "${SECTION}.modelMappings" setting`,
      interpreter: `map the base to its DIT-adapters in the "${SECTION}.interpreterMappings" setting`,
    },
  });
}

/**
 * An answer the user gave is written to the settings, where it can be seen and changed: the user
 * settings, or with a remote extension host the remote machine's (these are machine-scoped paths).
 * `key` is the base's repo id or its absolute folder (ModelResolver never passes a relative path).
 */
async function rememberAnswer(
  kind: 'base' | 'interpreter',
  key: string,
  path: string,
  log: Log,
): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const setting = kind === 'base' ? 'modelMappings' : 'interpreterMappings';
  try {
    if (kind === 'base') {
      const current = config.inspect<Record<string, string>>(setting)?.globalValue ?? {};
      await config.update(setting, { ...current, [key]: path }, vscode.ConfigurationTarget.Global);
    } else {
      const current = config.inspect<Record<string, InterpreterSpec[]>>(setting)?.globalValue ?? {};
      const spec: InterpreterSpec = { path, question: TOPIC_QUESTION, questionKind: 'topic' };
      await config.update(setting, { ...current, [key]: [spec] }, vscode.ConfigurationTarget.Global);
    }
    log.info(`remembered ${kind} ${key} → ${path} in the settings (${SECTION}.${setting})`);
  } catch (e) {
    log.warn(`could not remember ${kind} ${key} → ${path}: ${describeError(e)}`);
  }
}
