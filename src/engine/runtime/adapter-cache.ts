// Loaded adapters kept by file identity, so re-stacking an interpreter on the next diff reads
// only the new diff. A changed file (size or mtime) is read again.
import { statSync } from 'node:fs';
import { loadAdapter } from '../checkpoint/load-adapter';
import type { LoraAdapter } from '../checkpoint/types';

export class AdapterCache {
  private readonly entries = new Map<string, { stamp: string; adapter: LoraAdapter }>();

  constructor(private readonly capacity = 8) {}

  async get(spec: string): Promise<LoraAdapter> {
    const stamp = stampOf(spec);
    const hit = this.entries.get(spec);
    if (hit && hit.stamp === stamp) {
      this.entries.delete(spec);
      this.entries.set(spec, hit);
      return hit.adapter;
    }
    const adapter = await loadAdapter(spec);
    this.entries.set(spec, { stamp, adapter });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return adapter;
  }
}

/** Size and modification time of the file(s) behind a spec; empty when it does not exist (loadAdapter says why). */
function stampOf(spec: string): string {
  const hash = spec.lastIndexOf('#');
  const path = hash > 0 ? spec.slice(0, hash) : spec;
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
