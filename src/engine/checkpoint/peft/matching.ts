// Which modules an adapter adapts, and with which rank and alpha, as PEFT's
// `check_target_module_exists` and rank_pattern / alpha_pattern decide.

import type { PeftLoraConfig } from './config';
import type { ModuleSelector } from './patterns';

export function isTargeted(config: PeftLoraConfig, moduleName: string): boolean {
  if (config.exclude && selects(config.exclude, moduleName)) return false;
  const { targets } = config;
  if (targets.kind === 'regex') return targets.re.test(moduleName);
  if (targets.names.includes(moduleName)) return true;
  if (!targets.names.some((t) => moduleName.endsWith(`.${t}`))) return false;
  if (config.layers === undefined) return true;
  let layer: number | undefined;
  for (const re of config.layerRegexes) {
    const match = re.exec(moduleName);
    if (match) {
      layer = Number(match[1]);
      break;
    }
  }
  if (layer === undefined) return false;
  return typeof config.layers === 'number' ? layer === config.layers : config.layers.includes(layer);
}

function selects(selector: ModuleSelector, moduleName: string): boolean {
  if (selector.kind === 'regex') return selector.re.test(moduleName);
  return selector.names.some((n) => n === moduleName || moduleName.endsWith(`.${n}`));
}

export function patternValue(pattern: PeftLoraConfig['rankPattern'], moduleName: string): number | undefined {
  for (const [re, key, value] of pattern) {
    if (moduleName === key || moduleName.endsWith(`.${key}`) || re.test(moduleName)) return value;
  }
  return undefined;
}
