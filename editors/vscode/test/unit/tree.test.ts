import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { buildTree, entryContextValue, entryDescription, entryLabel, entryMarkdown, findEntry, GroupNode, languageName } from '../../src/tree';
import { entry } from './fixtures';

const labels = (g: GroupNode) => g.children.map((c) => (c.kind === 'group' ? `${c.label}(${c.count})` : c.entry.id));

describe('memory explorer tree', () => {
  const entries = [
    entry({ id: 'rs2', language: 'rust', key: 'stack.database', value: 'sqlx' }),
    entry({ id: 'rs1', language: 'rust', key: 'stack.async_runtime', value: 'tokio' }),
    entry({ id: 'py1', language: 'python', key: 'test.framework' }),
    entry({ id: 'gen', text: 'Commits follow Conventional Commits.' }),
    entry({ id: 'pin1', layer: 'pinned', text: 'Never log tokens.', importance: 1 }),
    entry({ id: 'proc', layer: 'procedure', text: 'Before committing…', steps: [{ text: 'cargo fmt' }], trigger: 'before-commit' }),
    // Stored in another order than they happened: ep1 was written last, but is the oldest.
    entry({ id: 'ep1', layer: 'episode', text: 'Moved to axum', updatedAt: 50, period: { start: 1, end: 5 } }),
    entry({ id: 'ep2', layer: 'episode', text: 'Added sqlx', updatedAt: 9, period: { start: 6, end: 9 } }),
    entry({ id: 'ep3', layer: 'episode', text: 'Added CI', updatedAt: 10, period: { start: 10, end: 12 } }),
    entry({ id: 'old', language: 'rust', key: 'stack.async_runtime', value: 'async-std', status: 'superseded', supersededBy: 'rs1' }),
    entry({ id: 'exp', layer: 'procedure', status: 'expired' }),
    entry({ id: 'del', status: 'deleted' }),
  ];

  it('five groups in order, languages sorted with General last, leaves sorted', () => {
    const tree = buildTree(entries);
    assert.deepEqual(
      tree.map((g) => `${g.label}(${g.count})`),
      ['Pinned(1)', 'Conventions(4)', 'Procedures(1)', 'Episodes(3)', 'Superseded(2)'],
    );
    assert.deepEqual(labels(tree[1]), ['Python(1)', 'Rust(2)', 'General(1)']);
    const rust = tree[1].children[1] as GroupNode;
    assert.deepEqual(labels(rust), ['rs1', 'rs2']); // by key
    assert.deepEqual(labels(tree[3]), ['ep3', 'ep2', 'ep1']); // by date, newest first
    assert.deepEqual(labels(tree[4]).sort(), ['exp', 'old']);
    assert.equal(findEntry(tree, 'del'), undefined);
  });

  it('groups exist even when empty', () => {
    const tree = buildTree([]);
    assert.equal(tree.length, 5);
    assert.ok(tree.every((g) => g.count === 0 && g.children.length === 0));
  });

  it('findEntry returns the path for reveal', () => {
    const hit = findEntry(buildTree(entries), 'rs2');
    assert.ok(hit);
    assert.deepEqual(
      hit.path.map((g) => g.id),
      ['group:conventions', 'lang:rust'],
    );
  });

  it('context values drive the inline actions', () => {
    assert.equal(entryContextValue(entry({ examples: ['Cargo.toml:1'] })), 'entry memory active unpinned evidence');
    assert.equal(entryContextValue(entry({ layer: 'pinned' })), 'entry pinned active pinned');
    assert.equal(entryContextValue(entry({ status: 'superseded' })), 'entry memory superseded unpinned restorable');
    // The menus match /\bpinned\b/: "unpinned" must not match it.
    assert.equal(/\bpinned\b/.test('entry memory active unpinned'), false);
  });

  it('labels, descriptions and tooltips', () => {
    assert.equal(entryLabel(entry({ text: 'a\n  b' })), 'a b');
    assert.equal(entryLabel(entry({ text: 'x'.repeat(100) }), 10), 'xxxxxxxxx…');
    assert.equal(entryDescription(entry({ key: 'stack.async_runtime', value: 'tokio' })), 'stack.async_runtime = tokio · config');
    assert.equal(entryDescription(entry({ layer: 'procedure', trigger: 'before-commit', status: 'expired', source: 'user' })), 'before-commit · expired · user');
    const week = Date.UTC(2026, 10, 29);
    assert.equal(entryDescription(entry({ layer: 'episode', key: 'episode.2026-W48', source: 'history', period: { start: week - 6 * 86400000, end: week } })), '2026-11-29 · history');
    const md = entryMarkdown(entry({ evidence: { matching: 3, total: 4 }, examples: ['a.rs:1'], tags: ['stack'], language: 'rust' }));
    assert.match(md, /Evidence: 3\/4 — a\.rs:1/);
    assert.match(md, /Rust/);
    assert.match(md, /id `e1`/);
    assert.equal(languageName('cpp'), 'C++');
    assert.equal(languageName('zig'), 'Zig');
    assert.equal(languageName(undefined), 'General');
  });
});
