import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { count, duration, rememberedHow, rememberExtras, renderContext } from '../../src/format';
import { ContextResult } from '../../src/protocol';
import { statusText } from '../../src/statusText';
import { entry, scoredEntry } from './fixtures';

const scored = (id: string) => scoredEntry(0.5, entry({ id }));

const context = (over: Partial<ContextResult>): ContextResult => ({
  pinned: [],
  memories: [],
  procedures: [],
  episodes: [],
  markdown: '# Project context\n\n- tokio',
  tokensUsed: 40,
  budgetTokens: 1500,
  tokenizer: 'cl100k_base',
  scopes: [],
  embedder: { id: 'all-MiniLM-L6-v2', fallback: false },
  timing: { embedMs: 4.1, searchMs: 1, scoreMs: 0.1, totalMs: 6.207874 },
  ...over,
});

describe('numbers as people read them', () => {
  it('counts take the singular for one', () => {
    assert.equal(count(1, 'entry', 'entries'), '1 entry');
    assert.equal(count(0, 'entry', 'entries'), '0 entries');
    assert.equal(count(2, 'folder'), '2 folders');
  });

  it('durations are rounded', () => {
    assert.equal(duration(6.207874), '6.2 ms');
    assert.equal(duration(42.5), '43 ms');
    assert.equal(duration(1234), '1.2 s');
    assert.equal(duration(undefined), '? ms');
  });

  it('the context preview footer: one entry, a rounded time', () => {
    const one = renderContext(context({ memories: [scored('a')] }), 'src/main.rs');
    assert.match(one, /_1 entry · 40\/1500 tokens · embedder all-MiniLM-L6-v2 · 6\.2 ms_/);
    assert.doesNotMatch(one, /6\.207874/);
    assert.match(renderContext(context({ memories: [scored('a'), scored('b')] }), 'x'), /_2 entries ·/);
  });

  it('a remember says how many secrets were redacted, and nothing when none were', () => {
    assert.equal(rememberExtras({ superseded: [], redacted: 0 }), '');
    assert.equal(rememberExtras({ superseded: [], redacted: 1 }), '1 secret redacted');
    assert.equal(rememberExtras({ superseded: ['a'], redacted: 2 }), 'superseded 1 entry, 2 secrets redacted');
  });

  it('the status bar tooltip counts grammatically', () => {
    assert.match(statusText({ state: 'running', counts: { active: 1 } }).tooltip, /— 1 active memory\n/);
    assert.match(statusText({ state: 'running', counts: { active: 3 } }).tooltip, /— 3 active memories\n/);
  });
});

describe('remember confirmations', () => {
  it('say which store the entry went to', () => {
    assert.equal(rememberedHow({ merged: false, store: 'team' }), 'Remembered in the team store');
    assert.equal(rememberedHow({ merged: true, store: 'local' }), 'Merged into an existing memory in the local store');
  });
});
