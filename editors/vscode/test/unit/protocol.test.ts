import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  compact,
  contextArgs,
  contextToolArgs,
  countByStatus,
  describeWrite,
  errorMessage,
  formatRecall,
  InputError,
  INSTRUCTION_FORMATS,
  parseExample,
  parseTags,
  recallArgs,
  rememberArgs,
  slim,
  slimResult,
} from '../../src/protocol';
import { entry, scoredEntry } from './fixtures';


describe('argument mapping', () => {
  it('compact drops empty values and trims strings', () => {
    assert.deepEqual(compact({ a: undefined, b: null, c: ' ', d: [], e: ' x ', f: 0, g: false }), { e: 'x', f: 0, g: false });
  });

  it('assembleContext: only given fields, numbers floored, layers checked', () => {
    assert.deepEqual(contextArgs({}), {});
    assert.deepEqual(contextArgs({ query: ' errors ', uri: '/w/src/main.rs', budgetTokens: '800', limit: 5.7, layers: 'memory, pinned' }), {
      query: 'errors',
      uri: '/w/src/main.rs',
      budgetTokens: 800,
      limit: 5,
      layers: ['memory', 'pinned'],
    });
    assert.throws(() => contextArgs({ budgetTokens: -1 }), InputError);
    assert.throws(() => contextArgs({ layers: ['memories'] }), /unknown layer "memories"/);
  });

  it('recall needs a query', () => {
    assert.throws(() => recallArgs({ query: '  ' }), /needs a query/);
    assert.deepEqual(recallArgs({ query: 'async', includeSuperseded: false }), { query: 'async' });
    assert.deepEqual(recallArgs({ query: 'async', includeSuperseded: true, limit: 3 }), { query: 'async', includeSuperseded: true, limit: 3 });
  });

  it('remember: text required, tags split, importance in 0..1', () => {
    assert.throws(() => rememberArgs({ text: '' }), /empty/);
    assert.deepEqual(rememberArgs({ text: ' Use thiserror. ', tags: 'errors, rust,errors', key: 'errors.library', layer: 'Pinned' }), {
      text: 'Use thiserror.',
      tags: ['errors', 'rust'],
      key: 'errors.library',
      layer: 'pinned',
    });
    assert.deepEqual(rememberArgs({ text: 'x', importance: '0.5' }), { text: 'x', importance: 0.5 });
    assert.throws(() => rememberArgs({ text: 'x', importance: 2 }), /between 0 and 1/);
    assert.throws(() => rememberArgs({ text: 'x', layer: 'notes' }), /unknown layer/);
  });

  it('parseTags', () => {
    assert.equal(parseTags(undefined), undefined);
    assert.equal(parseTags(' , '), undefined);
    assert.deepEqual(parseTags(['a', ' b ']), ['a', 'b']);
  });

  it('context tool: relative file paths resolve against the first folder', () => {
    assert.deepEqual(contextToolArgs({ filePath: 'src/main.rs' }, ['/ws/']), { uri: '/ws/src/main.rs' });
    assert.deepEqual(contextToolArgs({ filePath: './src/main.rs' }, ['/ws']), { uri: '/ws/src/main.rs' });
    assert.deepEqual(contextToolArgs({ filePath: '/abs/x.py', query: 'q' }, ['/ws']), { uri: '/abs/x.py', query: 'q' });
    assert.deepEqual(contextToolArgs({ filePath: 'file:///abs/x.py' }, ['/ws']), { uri: 'file:///abs/x.py' });
    assert.deepEqual(contextToolArgs({ filePath: 'C:\\w\\a.ts' }, ['/ws']), { uri: 'C:\\w\\a.ts' });
    // Neither query nor file: the active editor's file stands in.
    assert.deepEqual(contextToolArgs({}, ['/ws'], '/ws/a.go'), { uri: '/ws/a.go' });
    assert.deepEqual(contextToolArgs({ query: 'tests' }, ['/ws'], '/ws/a.go'), { query: 'tests' });
    assert.deepEqual(contextToolArgs({ budgetTokens: 300 }, []), { budgetTokens: 300 });
  });

  it('parseExample', () => {
    assert.deepEqual(parseExample('Cargo.toml:11'), { path: 'Cargo.toml', line: 11 });
    assert.deepEqual(parseExample('src/a b.rs:3:7'), { path: 'src/a b.rs', line: 3 });
    assert.deepEqual(parseExample('README.md'), { path: 'README.md' });
    assert.deepEqual(parseExample('C:\\w\\x.rs:2'), { path: 'C:\\w\\x.rs', line: 2 });
  });

  it('slim drops the vector', () => {
    const e = { ...entry(), vector: [0.1, 0.2] };
    assert.equal('vector' in slim(e), false);
    assert.equal(slim(e).text, e.text);
  });

  it('slimResult strips vectors from every result shape', () => {
    const v = () => ({ ...entry(), vector: [1, 2] });
    const ctx = slimResult({ pinned: [{ score: 1, parts: {}, entry: v() }], memories: [{ score: 1, parts: {}, entry: v() }], procedures: [], episodes: [], markdown: 'x' });
    assert.equal('vector' in ctx.pinned[0].entry, false);
    assert.equal('vector' in ctx.memories[0].entry, false);
    assert.equal('vector' in slimResult({ entries: [v()] }).entries[0], false);
    assert.equal('vector' in slimResult({ entry: v(), merged: false }).entry, false);
    assert.equal('vector' in slimResult(v()), false);
    assert.equal(slimResult(null), null);
  });

  it('formatRecall', () => {
    assert.equal(formatRecall({ entries: [] }), 'No memory matches that query.');
    const out = formatRecall({
      entries: [
        scoredEntry(0.61234, entry({ key: 'stack.async_runtime', value: 'tokio', language: 'rust', examples: ['Cargo.toml:11'] })),
        scoredEntry(0.4, entry({ id: 'p1', layer: 'procedure', text: 'Before committing', steps: [{ text: 'cargo fmt' }] })),
      ],
    });
    assert.match(out, /^1\. \[memory\/rust, id e1, score 0\.61\] Async code runs on tokio\. \[stack\.async_runtime = tokio\] \(evidence: Cargo\.toml:11\)/);
    assert.match(out, /2\. \[procedure, id p1, score 0\.40\] Before committing\n {3}1\. cargo fmt/);
  });

  it('errorMessage reads JSON-RPC errors', () => {
    assert.equal(errorMessage(new Error('boom')), 'boom');
    assert.equal(errorMessage({ code: -32602, message: 'tacit.forget: not found' }), 'tacit.forget: not found');
    assert.equal(errorMessage('x'), 'x');
  });

  it('countByStatus sums layers', () => {
    assert.deepEqual(countByStatus({ memory: { active: 3, superseded: 1 }, procedure: { active: 2 } }), { active: 5, superseded: 1 });
  });
});

describe('instruction files', () => {
  const file = (path: string, created: boolean, changed: boolean) => ({ path, content: '', created, changed, rules: [], leftOut: 0, tokens: 0 });

  it('a write says what it created, updated and left out', () => {
    const r = {
      files: [file('AGENTS.md', false, true), file('.github/instructions/rust.instructions.md', true, true), file('CLAUDE.md', false, false)],
      conflicts: [{ file: 'AGENTS.md', line: 5, handWritten: 'Use npm.', measured: 'Use pnpm.' }],
      problems: [],
      written: 2,
    };
    assert.equal(
      describeWrite(r, true),
      'would create .github/instructions/rust.instructions.md; would update AGENTS.md; 1 rule left out where a hand-written rule says otherwise (AGENTS.md:5)',
    );
    assert.match(describeWrite(r, false), /^created .*; updated AGENTS\.md;/);
  });

  it('nothing to change is said as such', () => {
    assert.equal(describeWrite({ files: [file('AGENTS.md', false, false)], conflicts: [], problems: [], written: 0 }, true), 'AGENTS.md is up to date');
  });

  it('every format the server writes is offered', () => {
    assert.deepEqual(
      INSTRUCTION_FORMATS.map((f) => f.format),
      ['agents', 'claude', 'copilot', 'cursor', 'windsurf'],
    );
  });
});
