// "Audit a Demo Diff": the demo world shipped in the extension (media/demo/manifest.json lists its
// base, interpreters and diffs), so that a first audit needs no download and no setup.
import { basename, dirname, relative } from 'node:path';
import * as vscode from 'vscode';
import { defaultDemoManifests, readDemoManifest } from '../../audit/demo-manifest';
import type { AuditService } from '../audit-service';
import { describeError, type Log } from '../log';
import { makeTarget } from '../targets';
import { requireTrust } from '../trust';

export function registerAuditDemo(audits: AuditService, log: Log): vscode.Disposable {
  return vscode.commands.registerCommand('ditAuditor.auditDemo', async () => {
    if (!(await requireTrust())) return;
    const diffs: { path: string; manifest: string }[] = [];
    for (const file of defaultDemoManifests()) {
      try {
        const manifest = readDemoManifest(file);
        if (manifest) for (const path of manifest.diffs) diffs.push({ path, manifest: file });
      } catch (e) {
        log.error(`the demo manifest ${file} cannot be read: ${describeError(e)}`);
      }
    }
    if (diffs.length === 0) {
      void vscode.window.showWarningMessage(
        'This build of DIT Auditor has no demo world (media/demo/manifest.json listing its diffs).',
      );
      return;
    }
    const picked = await vscode.window.showQuickPick(
      diffs.map((d) => ({
        label: basename(d.path),
        description: relative(dirname(d.manifest), d.path),
        path: d.path,
      })),
      {
        title: 'Audit a demo diff',
        placeHolder: 'A diff of the demo world (its base and interpreter come with it)',
      },
    );
    if (picked) await audits.audit(makeTarget({ path: picked.path }));
  });
}
