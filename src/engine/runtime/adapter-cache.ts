// Loaded adapters kept by file identity, so re-stacking an interpreter on the next diff reads
// only the new diff. A changed file (size or mtime) is read again.
import { statSync } from 'node:fs';
import { loadAdapter } from '../checkpoint/load-adapter';
import { type CheckpointRef, formatCheckpointRef } from '../checkpoint/reference';
import type { LoraAdapter } from '../checkpoint/types';

export class AdapterCache {
  private readonly entries = new Map<string, { stamp: string; adapter: LoraAdapter }>();

  constructor(private readonly capacity = 8) {}

  async get(ref: CheckpointRef): Promise<LoraAdapter> {
    const key = formatCheckpointRef(ref);
    const stamp = stampOf(ref.path);
    const hit = this.entries.get(key);
    if (hit && hit.stamp === stamp) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.adapter;
    }
    const adapter = await loadAdapter(ref);
    this.entries.set(key, { stamp, adapter });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return adapter;
  }
}

/** Size and modification time of the file(s) at `path`; empty when it does not exist (loadAdapter says why). */
function stampOf(path: string): string {
  try {
    const s = statSync(path);
    if (!s.isDirectory()) return `${s.size}:${s.mtimeMs}`;
    const parts = ['adapter_config.json', 'adapter_model.safetensors'].map((f) => {
      const fs = statSync(`${path}/${f}`, { throwIfNoEntry: false });
      return fs ? `${fs.size}:${fs.mtimeMs}` : '-';
    });
    return parts.join('|');
  } catch {
    return '';
  }
}
