// The LoRA slot inputs of recent adapter stacks, kept by the identity of the adapters in them:
// AdapterCache hands out the same LoraAdapter until its file changes on disk (then a new one, so a
// changed file never meets its old slots). Switching back to a stack costs a lookup, not a restack
// of its millions of values. A new stack laid out as a kept one (a new diff under the same
// interpreter) starts from that one's values and folds in only its new adapters; once four such
// stacks are kept, or the budget is full, it takes over the arrays of the least recently used one
// and needs no new memory (measured in the engine worker: fresh pages cost 3–10× the copying,
// bench/engine.ts). Bounded in bytes, least recently used out first; the two most recent stacks
// always stay (the current one, and the one an A ⇄ B comparison goes back to).
import type { LoraAdapter } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { checkAdapterFits, loraFeeds } from './lora-feeds';
import type { FeedSpec } from './ort-session';

/** Default budget: six [rank-1 diff, rank-16 interpreter] stacks of a Qwen3-0.6B (43 MB each). */
export const SLOT_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * A session's budget: 5 % of its weights' bytes, at most SLOT_CACHE_BYTES (the two most recent
 * stacks stay whatever their size). Qwen3-0.6B int4 kept four stacks (0.17 GB, 15 % of weights +
 * a 2048-position cache) under the fixed budget; now two, and a new diff takes over the arrays of
 * the older one instead of new pages.
 */
export function slotCacheBudget(weightBytes: number): number {
  return Math.min(SLOT_CACHE_BYTES, Math.floor(0.05 * weightBytes));
}
const ALWAYS_KEPT = 2;
/** Stacks of one layout kept before a new one takes over the least recently used one's arrays. */
const MAX_ALIKE = 4;

interface Alike {
  readonly entry: Entry;
  readonly feeds: readonly FeedSpec[];
  readonly changed: ReadonlySet<number>;
}

interface Entry {
  readonly adapters: readonly LoraAdapter[];
  readonly feeds: FeedSpec[];
  readonly bytes: number;
  /** Its arrays that no adapter shares (a one-factor slot is the factor's own arrays). */
  readonly owned: ReadonlySet<Float32Array>;
}

export class SlotCache {
  private readonly ids = new WeakMap<LoraAdapter, number>();
  private readonly layouts = new WeakMap<LoraAdapter, string>();
  private nextId = 1;
  private readonly entries = new Map<string, Entry>();
  private total = 0;
  /** Slot inputs runs are reading now, with how many runs. */
  private readonly inUse = new Map<FeedSpec[], number>();

  constructor(
    private readonly options: ModelOptions,
    readonly maxBytes = SLOT_CACHE_BYTES,
  ) {}

  /** The slot inputs of `adapters` stacked in this order: kept ones, or newly stacked (and kept). */
  feeds(adapters: readonly LoraAdapter[]): FeedSpec[] {
    const key = this.keyOf(adapters);
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.feeds;
    }
    // A bad adapter is refused before any kept stack is touched.
    for (const a of adapters) checkAdapterFits(a, this.options);
    // Kept stacks laid out as this one, least recently used first; the last that shares adapters
    // with it is where its values start from.
    const alike = this.laidOutAs(adapters);
    const template = alike.filter((a) => a.changed.size < adapters.length).at(-1);
    // Enough of them kept, or a full budget: the least recently used gives its arrays up (never the
    // current stack, nor one a run is reading).
    const current = [...this.entries.values()].at(-1);
    const victim =
      template && (alike.length >= MAX_ALIKE || this.total + template.entry.bytes > this.maxBytes)
        ? alike.find((a) => a.entry !== current && !this.inUse.has(a.entry.feeds))
        : undefined;
    let feeds: FeedSpec[];
    if (victim) {
      // Its arrays are being overwritten: it is no longer kept, whatever happens next.
      this.drop(this.keyOf(victim.entry.adapters), victim.entry);
      feeds = loraFeeds(adapters, this.options, { ...victim, reuse: victim.entry.owned });
    } else {
      feeds = loraFeeds(adapters, this.options, template);
    }
    // Counts every value, also those shared with the adapters.
    const bytes = feeds.reduce((n, f) => n + f.data.byteLength, 0);
    const shared = new Set(adapters.flatMap((a) => a.factors.flatMap((f) => [f.A, f.B])));
    const owned = new Set(feeds.map((f) => f.data as Float32Array).filter((d) => !shared.has(d)));
    this.entries.set(key, { adapters: [...adapters], feeds, bytes, owned });
    this.total += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxBytes || this.entries.size <= ALWAYS_KEPT) break;
      this.drop(oldest, entry);
    }
    return feeds;
  }

  /** Runs `run` while it reads `feeds`: their arrays are not given to another stack meanwhile. */
  async reading<T>(feeds: FeedSpec[], run: () => Promise<T>): Promise<T> {
    this.inUse.set(feeds, (this.inUse.get(feeds) ?? 0) + 1);
    try {
      return await run();
    } finally {
      const n = (this.inUse.get(feeds) ?? 1) - 1;
      if (n > 0) this.inUse.set(feeds, n);
      else this.inUse.delete(feeds);
    }
  }

  /** Stacks kept, and their bytes. */
  get stats(): { stacks: number; bytes: number } {
    return { stacks: this.entries.size, bytes: this.total };
  }

  /**
   * The kept stacks laid out as `adapters` (position by position, the same ranks on the same
   * modules), least recently used first, each with the positions where its adapters differ.
   */
  private laidOutAs(adapters: readonly LoraAdapter[]): Alike[] {
    const alike: Alike[] = [];
    for (const entry of this.entries.values()) {
      if (entry.adapters.length !== adapters.length) continue;
      const changed = new Set<number>();
      let sameLayout = true;
      entry.adapters.forEach((a, i) => {
        if (a === adapters[i]) return;
        changed.add(i);
        sameLayout &&= this.layoutOf(a) === this.layoutOf(adapters[i]);
      });
      if (sameLayout) alike.push({ entry, feeds: entry.feeds, changed });
    }
    return alike;
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.total -= entry.bytes;
  }

  private keyOf(adapters: readonly LoraAdapter[]): string {
    return adapters.map((a) => this.idOf(a)).join(',');
  }

  private idOf(adapter: LoraAdapter): number {
    let id = this.ids.get(adapter);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(adapter, id);
    }
    return id;
  }

  /** Which modules an adapter's factors are on, with what ranks, in its order. */
  private layoutOf(adapter: LoraAdapter): string {
    let layout = this.layouts.get(adapter);
    if (layout === undefined) {
      layout = adapter.factors.map((f) => `${f.layer}.${f.module}.${f.rank}`).join(',');
      this.layouts.set(adapter, layout);
    }
    return layout;
  }
}
