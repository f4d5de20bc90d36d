// Settings are read defensively: a wrong entry is named and skipped, never thrown.
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../src/extension/settings';

const read = (values: Record<string, unknown>) => readSettings((key) => values[key]);

describe('readSettings', () => {
  it('gives the defaults for an empty configuration', () => {
    const { settings, problems } = read({});
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      modelMappings: {},
      interpreterMappings: {},
      executionProvider: 'auto',
      precision: 'auto',
      maxNewTokens: undefined,
      triggerBudget: undefined,
      extraQuestions: [],
      evidencePrompts: undefined,
      huggingFaceCacheFolders: [],
      scanPickles: true,
      referenceDiagnostics: true,
      referenceHovers: true,
      explorerBadges: true,
      autoAudit: false,
      remoteEngine: undefined,
    });
  });

  it('reads a remote engine, and falls back to the local one for a URL that is not one', () => {
    expect(
      read({ 'remoteEngine.url': ' http://gpu-box:8000/v1 ', 'remoteEngine.model': 'Qwen/Qwen3-8B' }).settings
        .remoteEngine,
    ).toEqual({ url: 'http://gpu-box:8000/v1', model: 'Qwen/Qwen3-8B', topLogprobs: 20 });
    const bad = read({ 'remoteEngine.url': 'gpu-box' });
    expect(bad.settings.remoteEngine).toBeUndefined();
    expect(bad.problems).toEqual([
      'ditAuditor.remoteEngine.url must be an http(s) URL; using the local engine',
    ]);
  });

  it('reads well-formed values', () => {
    const { settings, problems } = read({
      modelMappings: { 'Qwen/Qwen3-8B': '/models/qwen3-8b' },
      interpreterMappings: {
        'Qwen/Qwen3-8B': [
          {
            path: '/models/dit-adapter.pt',
            question: 'What topic have you been trained on?',
            questionKind: 'topic',
          },
          { path: '/models/news', question: 'What news headline have you been trained on?' },
        ],
      },
      executionProvider: 'webgpu',
      maxNewTokens: 12,
      triggerSearchBudget: 500,
      extraQuestions: ['What changed?'],
      evidencePrompts: [],
      huggingFaceCacheFolders: ['/hf/hub'],
    });
    expect(problems).toEqual([]);
    expect(settings.modelMappings).toEqual({ 'Qwen/Qwen3-8B': '/models/qwen3-8b' });
    expect(settings.interpreterMappings['Qwen/Qwen3-8B']).toEqual([
      {
        path: '/models/dit-adapter.pt',
        question: 'What topic have you been trained on?',
        questionKind: 'topic',
      },
      {
        path: '/models/news',
        question: 'What news headline have you been trained on?',
        questionKind: 'custom',
      },
    ]);
    expect(settings.executionProvider).toBe('webgpu');
    expect(settings.maxNewTokens).toBe(12);
    expect(settings.triggerBudget).toBe(500);
    expect(settings.evidencePrompts).toEqual([]);
    expect(settings.huggingFaceCacheFolders).toEqual(['/hf/hub']);
  });

  it('reads a trigger search budget of 0 as no search, and names a bad one', () => {
    expect(read({ triggerSearchBudget: 0 }).settings.triggerBudget).toBe(0);
    const bad = read({ triggerSearchBudget: -3 });
    expect(bad.settings.triggerBudget).toBeUndefined();
    expect(bad.problems).toEqual([
      'ditAuditor.triggerSearchBudget must be a whole number (0: no trigger search)',
    ]);
  });

  it('treats maxNewTokens 0 as each question’s own length', () => {
    expect(read({ maxNewTokens: 0 }).settings.maxNewTokens).toBeUndefined();
  });

  it('names every malformed entry and skips it', () => {
    const { settings, problems } = read({
      modelMappings: { good: '/m', bad: 3, empty: ' ' },
      interpreterMappings: {
        base: [
          { path: '/ok', question: 'Q?' },
          { question: 'no path' },
          { path: '/no-question' },
          { path: '/bad-kind', question: 'Q?', questionKind: 'vibes' },
        ],
        notAList: { path: '/x' },
      },
      executionProvider: 'tpu',
      maxNewTokens: -1,
      extraQuestions: ['fine', 7, ''],
      evidencePrompts: 'not a list',
    });
    expect(settings.modelMappings).toEqual({ good: '/m' });
    expect(settings.interpreterMappings).toEqual({
      base: [{ path: '/ok', question: 'Q?', questionKind: 'custom' }],
    });
    expect(settings.executionProvider).toBe('auto');
    expect(settings.maxNewTokens).toBeUndefined();
    expect(settings.extraQuestions).toEqual(['fine']);
    expect(settings.evidencePrompts).toEqual([]);
    expect(problems).toEqual([
      'ditAuditor.modelMappings["bad"] must be a folder path',
      'ditAuditor.modelMappings["empty"] must be a folder path',
      'ditAuditor.interpreterMappings["base"][1] needs a "path"',
      'ditAuditor.interpreterMappings["base"][2] needs the "question" its adapter was trained on',
      'ditAuditor.interpreterMappings["base"][3].questionKind must be one of topic, knowledge, trigger, custom',
      'ditAuditor.interpreterMappings["notAList"] must be a list of { path, question, questionKind }',
      'ditAuditor.executionProvider must be one of auto, cuda, webgpu, cpu; using auto',
      "ditAuditor.maxNewTokens must be a whole number (0: each question's own length)",
      'ditAuditor.extraQuestions: entries that are not text were ignored',
      'ditAuditor.evidencePrompts must be a list of strings',
    ]);
  });
});
