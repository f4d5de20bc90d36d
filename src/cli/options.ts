// Option parsers shared by the commands.
import { InvalidArgumentError, Option } from 'commander';
import { type CheckpointRef, parseCheckpointRef } from '../engine/checkpoint/reference';
import { InputError } from '../engine/checkpoint/types';
import { PRECISION_PREFERENCES, type PrecisionPreference } from '../engine/quant/precision';
import { PROVIDER_PREFERENCES, type ProviderPreference } from '../engine/runtime/providers';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${value} is not a non-negative integer`);
  return n;
}

export function atLeastOne(value: string): number {
  const n = positiveInt(value);
  if (n < 1) throw new InvalidArgumentError(`${value} is not at least 1`);
  return n;
}

export function tokenIdList(value: string): number[] {
  const ids = value.split(',').map((s) => Number(s.trim()));
  if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new InvalidArgumentError(`${value} is not a comma-separated list of token ids`);
  }
  return ids;
}

/** `--provider`: its choices are the engine's list; commander checks them and shows them in the help. */
export function providerOption(defaultValue: ProviderPreference): Option {
  return new Option('--provider <ep>', 'execution provider')
    .choices(PROVIDER_PREFERENCES)
    .default(defaultValue);
}

/** `--precision`: the engine's weight precisions (quant/precision.ts); auto picks the most precise that fits in memory. */
export function precisionOption(defaultValue: PrecisionPreference = 'auto'): Option {
  return new Option(
    '--precision <p>',
    'weight precision: f32, f16 (GPU providers), int8 or int4 (weight-only, block-quantized); auto: the most precise of f32, int8 and int4 that fits in memory',
  )
    .choices(PRECISION_PREFERENCES)
    .default(defaultValue);
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${value} is not a number`);
  return n;
}

/** `--adapter PATH[#INDEX]`, repeatable: each parsed to a checkpoint reference as it comes in. */
export const ADAPTER_OPTION = {
  flags: '--adapter <path>',
  description: 'adapter or diff to stack (repeatable; PEFT folder, .safetensors, .pt[#INDEX])',
  parse(value: string, previous: CheckpointRef[] = []): CheckpointRef[] {
    try {
      return [...previous, parseCheckpointRef(value)];
    } catch (e) {
      throw e instanceof InputError ? new InvalidArgumentError(e.message) : e;
    }
  },
} as const;
