// Option parsers shared by the commands.
import { InvalidArgumentError } from 'commander';
import type { ProviderPreference } from '../engine/runtime/ort-session';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${value} is not a non-negative integer`);
  return n;
}

export function tokenIdList(value: string): number[] {
  const ids = value.split(',').map((s) => Number(s.trim()));
  if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new InvalidArgumentError(`${value} is not a comma-separated list of token ids`);
  }
  return ids;
}

export function provider(value: string): ProviderPreference {
  if (value === 'auto' || value === 'cuda' || value === 'webgpu' || value === 'cpu') return value;
  throw new InvalidArgumentError(`${value} is not one of auto, cuda, webgpu, cpu`);
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${value} is not a number`);
  return n;
}
