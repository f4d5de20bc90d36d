import { resolve } from 'node:path';

export const SHARED = resolve(__dirname, '../../../shared');
export const TINY = resolve(SHARED, 'fixtures/tiny');
export const TORCH_PICKLE = resolve(SHARED, 'fixtures/torch-pickle');
export const REPO = resolve(__dirname, '../..');
export const CLI = resolve(REPO, 'dist/cli.js');
