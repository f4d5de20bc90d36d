// What the commands that run audits share: where reports are cached, how progress is shown.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AuditProgress } from '../audit';
import { type DemoManifest, defaultDemoManifests, readDemoManifest } from '../audit/demo-manifest';
import { InputError } from '../engine/checkpoint/types';

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dit-auditor');
}

/**
 * Progress on stderr, the fraction first so that a narrow terminal still sees it move. On a
 * terminal one line follows every event; elsewhere (a log) a line per stage and per step of a stage
 * (each question, each prompt, each candidate verified), not per token or per batch of rows.
 */
export function progressPrinter(stream: NodeJS.WriteStream): (p: AuditProgress) => void {
  let stage: string | undefined;
  let step: number | undefined;
  const tty = stream.isTTY;
  return (p) => {
    const text = `[${p.stage} ${Math.round(p.fraction * 100)}%] ${p.message}`;
    if (tty) {
      const width = Math.max(20, (stream.columns || 80) - 1);
      stream.write(`${p.stage !== stage && stage !== undefined ? '\n' : '\r'}${text.slice(0, width)}\x1b[K`);
      if (p.stage === 'done') stream.write('\n');
    } else if (p.stage !== stage || (p.step !== undefined && p.step.index !== step)) {
      stream.write(`${text}\n`);
    }
    stage = p.stage;
    step = p.step?.index;
  };
}

/** The demo world's manifest: the one given, or the shipped media/demo/manifest.json. */
export function findManifest(explicit: string | undefined): DemoManifest {
  const candidates = explicit ? [explicit] : defaultDemoManifests();
  for (const file of candidates) {
    const manifest = readDemoManifest(file);
    if (manifest) return manifest;
  }
  throw new InputError(
    explicit
      ? `${explicit} does not exist`
      : `no demo world found (looked for ${candidates.join(', ')}); npm run train:demo makes one`,
  );
}
