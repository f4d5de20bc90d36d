// Pure helpers of the report view: no DOM, so that the unit tests (Node) can run them.
import type { AuditReport, CheckpointIdentity, DiffStatistics } from '../src/audit/report';

import { plural } from '../src/audit/units';

export { formatBytes, formatMs } from '../src/audit/units';

export interface HeatCell {
  readonly layer: number;
  readonly module: string;
  /** ‖ΔW‖ / ‖W‖, or undefined where the diff leaves the module alone. */
  readonly value?: number;
  /** 0..1 of the largest value in the map. */
  readonly intensity: number;
  /** The intensity in 9 steps (0..8), a CSS class: the panel's CSP allows no inline styles. */
  readonly level: number;
  readonly tooltip: string;
}

const MODULE_COLUMNS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/** The statistics as a layer × module grid of relative norms (rows: layers; columns: modules). */
export function heatMap(statistics: DiffStatistics): { modules: string[]; rows: HeatCell[][] } {
  const max = Math.max(0, ...statistics.cells.map((c) => c.relativeNorm));
  const byKey = new Map(statistics.cells.map((c) => [`${c.layer}.${c.module}`, c]));
  const rows = Array.from({ length: statistics.layers }, (_, layer) =>
    MODULE_COLUMNS.map((module): HeatCell => {
      const c = byKey.get(`${layer}.${module}`);
      if (!c)
        return { layer, module, intensity: 0, level: 0, tooltip: `layer ${layer} ${module}: unchanged` };
      const intensity = max === 0 ? 0 : c.relativeNorm / max;
      return {
        layer,
        module,
        value: c.relativeNorm,
        intensity,
        level: Math.round(8 * intensity),
        tooltip:
          `layer ${layer} ${module}: ‖ΔW‖ ${c.frobeniusNorm.toPrecision(3)}, ${(100 * c.relativeNorm).toFixed(2)} % of ‖W‖, ` +
          `rank ${c.rank}, effective rank ${c.effectiveRank.toFixed(2)}, top singular values ` +
          c.topSingularValues.map((v) => v.toPrecision(3)).join(', '),
      };
    }),
  );
  return { modules: MODULE_COLUMNS, rows };
}

export function percent(x: number): string {
  return `${Math.round(100 * x)} %`;
}

export function shortHash(sha256: string): string {
  return sha256.slice(0, 12);
}

const KIND_LABELS: Record<CheckpointIdentity['kind'], string> = {
  model: 'model',
  'full-finetune': 'full finetune',
  'peft-adapter': 'PEFT adapter',
  safetensors: 'safetensors weights',
  'torch-weight-diff': 'torch weight diff',
  'torch-dit-adapter': 'torch DIT-adapter',
};

export function kindLabel(kind: CheckpointIdentity['kind']): string {
  return KIND_LABELS[kind];
}

export function finishLabel(reason: AuditReport['answers'][number]['finishReason'], tokens: number): string {
  switch (reason) {
    case 'stop':
      return `${plural(tokens, 'token')}, ended`;
    case 'stop-string':
      return `${plural(tokens, 'token')}, stop string`;
    case 'length':
      return `${plural(tokens, 'token')}, cut at the limit`;
    case 'cancelled':
      return `${plural(tokens, 'token')}, cancelled`;
  }
}
