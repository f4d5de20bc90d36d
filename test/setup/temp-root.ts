// Every test file writes its temporary files under one folder of its own, removed when its tests
// are done: what the tests make, what the CLIs they spawn make (they inherit TMPDIR), and what the
// runtime leaves there (onnxruntime writes mat-debug-PID.log and .ses into the temporary folder).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'dit-tests-'));
for (const name of ['TMPDIR', 'TMP', 'TEMP']) process.env[name] = root;
// The weight-norm cache the statistics keep (src/engine/analysis/weight-norms.ts) stays in there too.
process.env.DIT_WEIGHT_NORMS_CACHE = join(root, 'weight-norms');

afterAll(() => rmSync(root, { recursive: true, force: true }));
