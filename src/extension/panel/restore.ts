// What a panel restored after a reload may show (no VS Code API: tested directly).
import { parseReport } from '../../audit/report';
import { isPanelState, type PanelState } from '../../protocol/panel';

/**
 * A restored panel's saved state, checked: a report must still match the schema, and an audit
 * that was running when the window closed did not finish.
 */
export function restoredState(saved: unknown): PanelState | undefined {
  if (typeof saved !== 'object' || saved === null || !('state' in saved)) return undefined;
  const state = saved.state;
  if (!isPanelState(state)) return undefined;
  if (state.kind === 'report') {
    try {
      return { ...state, report: parseReport(state.report) };
    } catch {
      return undefined;
    }
  }
  if (state.kind === 'running') {
    return {
      kind: 'error',
      target: state.target,
      message: 'the window was closed or reloaded while the audit ran',
    };
  }
  return state;
}
