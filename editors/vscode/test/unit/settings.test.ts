import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { expandPath, needsRestart, toServerOptions } from '../../src/settings';

const getter = (values: Record<string, unknown>) => (k: string) => values[k];

describe('settings → server options', () => {
  it('defaults (empty strings, empty arrays) map to nothing but the scalar settings', () => {
    const opts = toServerOptions(
      getter({
        'server.path': '',
        'store.path': '',
        'model.path': ' ',
        'index.ignore': [],
        'index.onStartup': true,
        'context.budgetTokens': 1500,
        'context.limit': 15,
        'context.minRelevance': 0.2,
        'weights.relevance': 0.55,
      }),
    );
    assert.deepEqual(opts, { indexOnStartup: true, budgetTokens: 1500, limit: 15, minRelevance: 0.2, weights: { relevance: 0.55 } });
  });

  it('maps every setting to the server option names', () => {
    const opts = toServerOptions(
      getter({
        'store.path': '~/tacit-store',
        teamStore: 's3://${env:TEAM_BUCKET}/tacit',
        'model.path': '${env:MODELS}/minilm',
        'index.ignore': ['generated/**', '', 3, ' vendor2/** '],
        'index.onStartup': false,
        'context.budgetTokens': 800.9,
        'context.limit': 7,
        'context.minRelevance': 0.35,
        'weights.relevance': 0.5,
        'weights.importance': 0.2,
        'weights.recency': 0.1,
        'weights.frequency': 0.1,
        'weights.confidence': 0.1,
        'history.maxCommits': 20000,
      }),
      { HOME: '/home/ada', MODELS: '/opt/models', TEAM_BUCKET: 'acme-memory' },
    );
    assert.deepEqual(opts, {
      storePath: '/home/ada/tacit-store',
      teamStore: 's3://acme-memory/tacit',
      modelPath: '/opt/models/minilm',
      ignore: ['generated/**', 'vendor2/**'],
      indexOnStartup: false,
      budgetTokens: 800,
      limit: 7,
      minRelevance: 0.35,
      weights: { relevance: 0.5, importance: 0.2, recency: 0.1, frequency: 0.1, confidence: 0.1 },
      historyMaxCommits: 20000,
    });
  });

  it('drops out-of-range and mistyped values instead of sending them', () => {
    const opts = toServerOptions(getter({ 'context.budgetTokens': 0, 'context.limit': 'ten', 'context.minRelevance': 1.5, 'weights.recency': -0.1, 'index.onStartup': 'yes', 'history.maxCommits': 0 }));
    assert.deepEqual(opts, {});
  });

  it('expands ${workspaceFolder} and ~', () => {
    assert.equal(expandPath('${workspaceFolder}/.tacit', {}, '/ws'), '/ws/.tacit');
    assert.equal(expandPath('~', { HOME: '/h' }), '/h');
    assert.equal(expandPath('s3://bucket/tacit', { HOME: '/h' }), 's3://bucket/tacit');
    assert.equal(expandPath(undefined, {}), undefined);
  });

  it('start-time settings restart the server; the others do not', () => {
    assert.equal(needsRestart((s) => s === 'tacit.store.path'), true);
    assert.equal(needsRestart((s) => s === 'tacit.server.path'), true);
    assert.equal(needsRestart((s) => s === 'tacit.model.path'), true);
    assert.equal(needsRestart((s) => s === 'tacit.teamStore'), true);
    assert.equal(needsRestart((s) => s === 'tacit.context.budgetTokens'), false);
  });
});
