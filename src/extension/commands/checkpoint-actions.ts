// The commands behind the hover's link and the code actions: open a checkpoint's cached report,
// audit it, audit it again. Their argument comes from a command link, so it is checked.
import * as vscode from 'vscode';
import { z } from 'zod';
import { classifyCheckpoint } from '../../engine/checkpoint/classify';
import type { CheckpointRef } from '../../engine/checkpoint/reference';
import type { AuditService } from '../audit-service';
import { describeError, type Log } from '../log';
import type { ReportPanels } from '../panel/registration';
import type { CheckpointStatuses } from '../references/checkpoint-statuses';
import { makeTarget } from '../targets';

export const OPEN_REPORT_COMMAND = 'ditAuditor.openCheckpointReport';
export const AUDIT_CHECKPOINT_COMMAND = 'ditAuditor.auditCheckpoint';
export const REAUDIT_CHECKPOINT_COMMAND = 'ditAuditor.reauditCheckpoint';

const refArgument = z.object({ path: z.string().min(1), entry: z.number().int().nonnegative().optional() });

/** The argument a command link or code action passes. */
export function commandArgument(ref: CheckpointRef): CheckpointRef {
  return ref.entry === undefined ? { path: ref.path } : { path: ref.path, entry: ref.entry };
}

export function registerCheckpointActions(
  audits: AuditService,
  panels: ReportPanels,
  statuses: CheckpointStatuses,
  log: Log,
): vscode.Disposable {
  const parse = (arg: unknown): CheckpointRef | undefined => {
    const parsed = refArgument.safeParse(arg);
    if (!parsed.success) log.warn(`a checkpoint command was given ${JSON.stringify(arg)}, not a checkpoint`);
    return parsed.data;
  };
  return vscode.Disposable.from(
    vscode.commands.registerCommand(OPEN_REPORT_COMMAND, async (arg: unknown) => {
      const ref = parse(arg);
      if (!ref) return;
      try {
        const status = await statuses.statusOf(ref, classifyCheckpoint(ref.path));
        if (status.kind === 'audited') {
          panels.show({ kind: 'report', target: makeTarget(ref), report: status.report, fromCache: true });
        } else {
          await audits.audit(makeTarget(ref));
        }
      } catch (e) {
        void vscode.window.showErrorMessage(`DIT Auditor: ${describeError(e)}`);
      }
    }),
    vscode.commands.registerCommand(AUDIT_CHECKPOINT_COMMAND, async (arg: unknown) => {
      const ref = parse(arg);
      if (ref) await audits.audit(makeTarget(ref));
    }),
    vscode.commands.registerCommand(REAUDIT_CHECKPOINT_COMMAND, async (arg: unknown) => {
      const ref = parse(arg);
      if (ref) await audits.audit(makeTarget(ref), { refresh: true });
    }),
  );
}
