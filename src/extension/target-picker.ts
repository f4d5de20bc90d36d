// From a URI the user pointed at to an audit target: folders and files are classified, and a `.pt`
// holding a list of weight diffs asks which entry to audit.
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { type Checkpoint, classifyCheckpoint, folderKind } from '../engine/checkpoint/classify';
import { describeTorchFile } from '../engine/checkpoint/torch-layouts';
import type { AuditTarget } from '../protocol/panel';
import { describeError, type Log } from './log';
import { SECTION } from './settings';
import { describeDiffEntry, FOLDER_MARKER_FILES, makeTarget } from './targets';

/** The target for `uri`, or undefined when there is none (the user was told why, or cancelled). */
export async function targetFromUri(uri: vscode.Uri, log: Log): Promise<AuditTarget | undefined> {
  if (uri.scheme !== 'file') {
    void vscode.window.showErrorMessage(
      `DIT Auditor reads checkpoints from the file system where the extension runs; ${uri.toString()} is not there.`,
    );
    return undefined;
  }
  let path = uri.fsPath;
  // An opened adapter_config.json / config.json stands for its folder.
  if (FOLDER_MARKER_FILES.includes(basename(path)) && folderKind(dirname(path)) !== undefined)
    path = dirname(path);
  let checkpoint: Checkpoint;
  try {
    checkpoint = classifyCheckpoint(path);
  } catch (e) {
    void vscode.window.showErrorMessage(describeError(e));
    return undefined;
  }
  if (checkpoint.kind !== 'torch-file') return makeTarget({ path: checkpoint.path });
  return torchTarget(checkpoint.path, log);
}

async function torchTarget(path: string, log: Log): Promise<AuditTarget | undefined> {
  let description: Awaited<ReturnType<typeof describeTorchFile>>;
  try {
    description = await describeTorchFile(path);
  } catch (e) {
    // Not readable as a torch file here: the audit says what it is (or why it cannot be read).
    log.info(`${path}: ${describeError(e)}; auditing the file as a whole`);
    return makeTarget({ path });
  }
  // An unsafe pickle is audited as is: the audit reports it without loading anything.
  if (description.forbiddenGlobals.length > 0 || description.format === 'legacy') return makeTarget({ path });
  if (description.layout === 'dit-adapter') {
    const open = 'Open Settings';
    const choice = await vscode.window.showWarningMessage(
      `${basename(path)} is a DIT-adapter (an interpreter), not a diff. Map it as the interpreter of its base model in the "${SECTION}.interpreterMappings" setting, then audit a diff of that base.`,
      open,
    );
    if (choice === open)
      await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.interpreterMappings`);
    return undefined;
  }
  const entries = description.diffEntries ?? [];
  if (entries.length <= 1) return makeTarget({ path });
  const picked = await vscode.window.showQuickPick(
    entries.map((e) => ({ ...describeDiffEntry(e), index: e.index })),
    {
      title: `${basename(path)} holds ${entries.length} weight diffs`,
      placeHolder: 'Which diff to audit? (type to filter by index, topic or trigger)',
      matchOnDescription: true,
    },
  );
  return picked === undefined ? undefined : makeTarget({ path, entry: picked.index });
}
