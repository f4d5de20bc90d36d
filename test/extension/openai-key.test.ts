import { describe, expect, it } from 'vitest';
import { openAiKeyProblem } from '../../src/extension/openai-key';

describe('openAiKeyProblem', () => {
  it('accepts what looks like a key', () => {
    expect(openAiKeyProblem('sk-proj-abcdefghijklmnopqrstuvwxyz0123')).toBeUndefined();
    expect(openAiKeyProblem('  sk-abcdefghijklmnopqrstuvwxyz  ')).toBeUndefined();
  });

  it('says what is wrong, without echoing the value', () => {
    for (const value of [
      '',
      '   ',
      'sk-abc def ghi jkl mno pqr',
      'pk-abcdefghijklmnopqrstuvwxyz',
      'sk-short',
    ]) {
      const problem = openAiKeyProblem(value);
      expect(problem).toBeTypeOf('string');
      if (value.trim() !== '') expect(problem).not.toContain(value.trim());
    }
  });
});
