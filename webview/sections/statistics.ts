// The weight statistics as a heat map of layers × modules.
import { html, nothing, type TemplateResult } from 'lit';
import type { AuditReport } from '../../src/audit/report';
import { heatMap } from '../format';
import { heading } from './icons';

export function statisticsSection(r: AuditReport): TemplateResult | typeof nothing {
  const s = r.statistics;
  if (s === null) return nothing;
  const map = heatMap(s);
  return html`<section data-testid="statistics">
    ${heading('statistics', 'Weight statistics')}
    <p class="muted">
      ${s.source === 'low-rank' ? 'From the low-rank factors' : 'From finetuned − base'}: ${s.cells.length} modules,
      Frobenius norm ${s.frobeniusNorm.toPrecision(4)}, largest rank ${s.maxRank}. Each cell: ‖ΔW‖ as a percentage
      of ‖W‖, the base weight (hover for the norm, effective rank and top singular values).
    </p>
    <table class="heatmap" data-testid="heatmap">
      <tr><th>Layer</th>${map.modules.map((m) => html`<th>${m.replace('_proj', '')}</th>`)}</tr>
      ${map.rows.map(
        (row, layer) => html`<tr>
          <th>${layer}</th>
          ${row.map((c) =>
            c.value === undefined
              ? html`<td class="cell unchanged" title=${c.tooltip}>·</td>`
              : html`<td class="cell heat-${c.level}" data-testid="heat-cell" title=${c.tooltip}>
                  ${(100 * c.value).toFixed(1)}
                </td>`,
          )}
        </tr>`,
      )}
    </table>
  </section>`;
}
