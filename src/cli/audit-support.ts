// What the commands that run audits share: where reports are cached, how progress is shown.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AuditProgress } from '../audit';

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dit-auditor');
}

export /** One line per stage; on a terminal the current line also follows the steps within a stage. */
function progressPrinter(stream: NodeJS.WriteStream): (p: AuditProgress) => void {
  let stage: string | undefined;
  const tty = stream.isTTY;
  return (p) => {
    const text = `[${p.stage}] ${p.message} (${Math.round(p.fraction * 100)}%)`;
    if (tty) {
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      stream.write(`${p.stage !== stage && stage !== undefined ? '\n' : '\r'}${text.slice(0, width)}\x1b[K`);
      if (p.stage === 'done') stream.write('\n');
    } else if (p.stage !== stage) {
      stream.write(`${text}\n`);
    }
    stage = p.stage;
  };
}
