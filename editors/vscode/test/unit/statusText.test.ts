import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { statusText } from '../../src/statusText';

describe('status bar text', () => {
  it('shows indexing progress, then counts', () => {
    assert.equal(statusText({ state: 'running', indexing: { percentage: 42.4, message: 'ws: scanning' } }).text, '$(sync~spin) tacit 42%');
    const s = statusText({ state: 'running', counts: { active: 39, superseded: 1 }, byLayer: { memory: { active: 34, superseded: 1 }, procedure: { active: 5 } }, store: '/s' });
    assert.equal(s.text, '$(book) tacit 39');
    assert.match(s.tooltip, /- memory: 34 active, 1 superseded/);
    assert.match(s.tooltip, /Store: `\/s`/);
  });

  it('warns about the lexical fallback and reports failures', () => {
    const w = statusText({ state: 'running', counts: { active: 1 }, fallback: true });
    assert.equal(w.text, '$(warning) tacit 1');
    assert.equal(w.warning, true);
    const f = statusText({ state: 'failed', error: 'not found' });
    assert.equal(f.error, true);
    assert.match(f.tooltip, /not found/);
    assert.equal(statusText({ state: 'starting' }).text, '$(loading~spin) tacit');
  });

  it('shows the server memory the server reports', () => {
    const base = { state: 'running' as const, counts: { active: 1 }, store: '/s' };
    assert.match(statusText({ ...base, residentBytes: 283 * 1048576 }).tooltip, /Server memory: 283 MB resident/);
    assert.doesNotMatch(statusText({ ...base, residentBytes: null }).tooltip, /Server memory/);
  });

  it('shows the team store and its state', () => {
    const base = { state: 'running' as const, counts: { active: 1 }, store: '/s' };
    assert.match(statusText(base).tooltip, /Team store: off/);
    assert.match(statusText({ ...base, teamStore: { uri: 's3://b/p', state: 'connected', reason: null, entries: 3 } }).tooltip, /Team store: `s3:\/\/b\/p` — connected, 3 entries/);
    assert.match(statusText({ ...base, teamStore: { uri: 's3://b/p', state: 'connecting', reason: null, entries: 0 } }).tooltip, /Team store: `s3:\/\/b\/p` — connecting/);
    assert.match(
      statusText({ ...base, teamStore: { uri: 's3://b/p', state: 'unreachable', reason: 'connection refused', entries: 0 } }).tooltip,
      /Team store: `s3:\/\/b\/p` — unreachable: connection refused/,
    );
  });
});
