// Integration tests in a real VS Code extension host, against the real tacit binary and a
// git copy of tests/fixtures/polyglot (see test/run-integration.js).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cp from 'child_process';
import * as vscode from 'vscode';
import type { TacitApi } from '../../src/api';
import type { TacitTesting } from '../../src/extension';
import type { ContextResult, Entry, ExportResult, ImportResult, RecallResult, RememberResult, Scored, WriteInstructionsResult } from '../../src/protocol';
import { EntryNode, findEntry, GroupNode, TreeNode } from '../../src/tree';

type Api = TacitApi & { testing: TacitTesting };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

/** Every entry node of the tree, depth first. */
function entryNodes(nodes: TreeNode[]): EntryNode[] {
  return nodes.flatMap((n) => (n.kind === 'entry' ? [n] : entryNodes(n.children)));
}

const allScored = (r: ContextResult): Scored[] => [...r.pinned, ...r.memories, ...r.procedures, ...r.episodes];

function toolText(result: vscode.LanguageModelToolResult): string {
  return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : (p as { value?: string }).value ?? '')).join('');
}

describe('tacit extension', function () {
  let api: Api;
  const ws = () => vscode.workspace.workspaceFolders![0].uri;

  before(async function () {
    this.timeout(180000);
    const ext = vscode.extensions.getExtension<Api>('tacit.tacit');
    assert.ok(ext, 'extension tacit.tacit is loaded');
    api = await ext.activate();
    assert.equal(await api.ready(), true, `server started (${api.testing.client.lastError ?? ''})`);
    // The server indexes the workspace on start: wait until the conventions are in.
    await until('indexing', async () => {
      const s = await api.status();
      return !s.indexing && (s.counts.memory?.active ?? 0) > 0;
    });
  });

  it('activates, starts the configured binary and reports status', async () => {
    const s = await api.status();
    assert.equal(api.testing.client.state, 'running');
    assert.equal(api.testing.client.server?.source, 'setting');
    assert.equal(api.testing.client.server?.path, process.env.TACIT_BIN);
    assert.equal(s.store, process.env.TACIT_STORE, 'the store comes from tacit.store.path');
    assert.equal(s.embedder.fallback, false, `the real model is used (${s.embedder.fallbackReason ?? ''})`);
    assert.ok(s.workspaces.some((w) => w.root === ws().fsPath));
    const commands = await vscode.commands.getCommands(true);
    for (const c of ['tacit.showContext', 'tacit.askMemory', 'tacit.rememberSelection', 'tacit.rememberText', 'tacit.forgetEntry', 'tacit.reindexWorkspace', 'tacit.exportMemory', 'tacit.importMemory', 'tacit.showServerLog']) {
      assert.ok(commands.includes(c), `${c} registered`);
    }
    // The status bar shows counts once indexing is over.
    await until('status bar counts', async () => /^\$\(book\) tacit \d+$/.test(api.testing.statusBar.text));
  });

  it('Show Context for This File returns the tokio convention and previews it', async () => {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(ws(), 'src', 'main.rs'));
    await vscode.window.showTextDocument(doc);
    const result = await vscode.commands.executeCommand<ContextResult>('tacit.showContext');
    assert.ok(result, 'the command returned the assembled context');
    const tokio = allScored(result).find((s) => s.entry.key === 'stack.async_runtime');
    assert.ok(tokio, `stack.async_runtime among ${allScored(result).map((s) => s.entry.key).join(', ')}`);
    assert.equal(tokio.entry.value, 'tokio');
    assert.match(result.markdown, /tokio/);
    assert.equal('vector' in tokio.entry, false, 'embedding vectors are stripped');
    const preview = await until('the context document', async () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'tacit-context'));
    assert.match(preview.getText(), /tokio/);
    assert.match(preview.getText(), /tokens/);
  });

  it('the context preview rounds its timing and counts entries grammatically', async () => {
    await vscode.commands.executeCommand<ContextResult>('tacit.showContext', { query: 'which async runtime do we use?' });
    const preview = await until('the context document', async () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'tacit-context' && /async runtime/.test(d.uri.path)));
    const footer = preview.getText().trim().split('\n').pop()!;
    assert.match(footer, /^_(1 entry|\d+ entries) · \d+\/\d+ tokens · .* · (\d+\.\d ms|\d+ ms|\d+\.\d s)_$/, footer);
    assert.doesNotMatch(footer, /^_1 entries|\d\.\d{2,} ms/, footer);
  });

  it('Show Context answers a question without a file', async () => {
    const result = await vscode.commands.executeCommand<ContextResult>('tacit.showContext', { query: 'which async runtime do we use?', preview: false });
    assert.ok(allScored(result!).some((s) => s.entry.value === 'tokio'));
  });

  it('Ask Memory recalls, and Go to Evidence opens the example file:line', async () => {
    const r = await vscode.commands.executeCommand<RecallResult>('tacit.askMemory', 'async runtime');
    const hit = r!.entries.find((s) => s.entry.key === 'stack.async_runtime');
    assert.ok(hit, 'recall finds the async runtime');
    assert.ok(hit.entry.examples?.length);
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('tacit.goToEvidence', hit.entry, 0);
    const [file, line] = hit.entry.examples![0].split(':');
    assert.equal(editor!.document.uri.fsPath, path.join(ws().fsPath, file));
    assert.equal(editor!.selection.active.line, Number(line) - 1);
  });

  it('remember → the explorer shows it → edit, pin, unpin → forget removes it', async () => {
    const text = 'Wrap every outbound HTTP call in the retry helper from net/retry.';
    const r = await vscode.commands.executeCommand<RememberResult>('tacit.rememberText', { text, key: 'http.retry', tags: 'http' });
    assert.ok(r, 'remembered');
    const id = r.entry.id;
    assert.equal(r.entry.text, text);

    let tree = await vscode.commands.executeCommand<GroupNode[]>('tacit.explorer.refresh');
    const hit = findEntry(tree!, id);
    assert.ok(hit, 'the explorer lists the new memory');
    assert.deepEqual(
      hit.path.map((g) => g.label),
      ['Conventions', 'General'],
    );
    const item = api.testing.explorer.getTreeItem(hit.node);
    assert.match(String(item.label), /retry helper/);
    assert.match(item.contextValue!, /\bactive\b/);

    const edited = await vscode.commands.executeCommand<Entry>('tacit.editEntry', hit.node, 'Wrap every outbound HTTP call in net/retry.');
    assert.equal(edited!.text, 'Wrap every outbound HTTP call in net/retry.');

    const pinned = await vscode.commands.executeCommand<Entry>('tacit.pinEntry', id);
    assert.equal(pinned!.layer, 'pinned');
    tree = await vscode.commands.executeCommand<GroupNode[]>('tacit.explorer.refresh');
    assert.ok(findEntry(tree!, pinned!.id)?.path[0].label === 'Pinned', 'the pinned copy is under Pinned');
    await vscode.commands.executeCommand('tacit.unpinEntry', pinned!.id);

    const forgotten = await vscode.commands.executeCommand<string>('tacit.forgetEntry', hit.node);
    assert.equal(forgotten, id);
    tree = await vscode.commands.executeCommand<GroupNode[]>('tacit.explorer.refresh');
    assert.equal(findEntry(tree!, id), undefined, 'forgotten entry left the explorer');
    assert.equal(findEntry(tree!, pinned!.id), undefined, 'unpinned block left the explorer');
    await assert.rejects(api.testing.client.execute('tacit.get', { id }), /not found|no entry|unknown/i);
  });

  it('remember reports redacted secrets as a count', async () => {
    const plain = await api.remember({ text: 'Release notes are written in CHANGELOG.md by the person who merges.' });
    assert.equal(plain.redacted, 0);
    const secret = await api.remember({ text: 'The deploy bot token is ghp_abcdefghijklmnopqrstuvwxyz0123456789, rotate it monthly.' });
    assert.equal(secret.redacted, 1, 'a number, not a boolean');
    assert.match(secret.entry.text, /\[REDACTED:/);
    for (const r of [plain, secret]) await vscode.commands.executeCommand('tacit.forgetEntry', r.entry.id);
  });

  it('Remember for the Team without a team store shows why, and the status says the team store is off', async () => {
    api.testing.commands.lastError = undefined;
    const r = await vscode.commands.executeCommand<RememberResult>('tacit.rememberForTeam', { text: 'Never call the billing API from tests.' });
    assert.equal(r, undefined, 'nothing remembered');
    // The server's own refusal, shown as it is (it says why: no team store is configured).
    assert.match(api.testing.commands.lastError ?? '', /^tacit: tacit\.remember: .*team/);
    const local = await vscode.commands.executeCommand<RememberResult>('tacit.rememberText', { text: 'Billing fixtures live in tests/billing/.' });
    assert.match(api.testing.commands.lastMessage ?? '', /^tacit: Remembered in the local store/);
    await vscode.commands.executeCommand('tacit.forgetEntry', local!.entry.id);
    await until('the team store in the status tooltip', async () => /Team store: off/.test(api.testing.statusBar.tooltip), 10000);
  });

  it('episodes are listed in the order they happened, newest first, with their date', async () => {
    const tree = await vscode.commands.executeCommand<GroupNode[]>('tacit.explorer.refresh');
    const episodes = tree!.find((g) => g.id === 'group:episodes')!;
    const ends = episodes.children.map((n) => (n as EntryNode).entry.period?.end ?? 0);
    assert.ok(ends.length >= 3, `episodes of the fixture's history: ${ends.length}`);
    assert.deepEqual(ends, [...ends].sort((a, b) => b - a), 'newest first');
    const item = api.testing.explorer.getTreeItem(episodes.children[0]);
    assert.match(String(item.description), /^\d{4}-\d{2}-\d{2} · history$/);
  });

  it("the Memory Explorer shows another process's write without a refresh", async () => {
    await vscode.commands.executeCommand('tacit.openExplorer');
    const text = 'Feature flags are read from config/flags.toml at start-up only.';
    // `tacit remember` in a terminal: another process writing the same store.
    cp.execFileSync(process.env.TACIT_BIN!, ['remember', '-C', ws().fsPath, text], { env: { ...process.env, TACIT_STORE: process.env.TACIT_STORE } });
    const node = await until(
      'the entry in the explorer',
      async () => entryNodes(api.testing.explorer.tree).find((n) => n.entry.text === text),
      30000,
    );
    await vscode.commands.executeCommand('tacit.forgetEntry', node.entry.id);
  });

  it('a superseded memory shows under Superseded and can be restored', async () => {
    const a = await api.remember({ text: 'Install JavaScript dependencies with pnpm.', key: 'js.package_manager' });
    const b = await api.remember({ text: 'We switched to yarn for every package install.', key: 'js.package_manager' });
    if (!b.superseded.includes(a.entry.id)) {
      // This server build does not supersede user entries by key: make `a` superseded
      // through a lossless export → edit → import instead.
      const ex = await api.testing.client.execute<ExportResult>('tacit.export', {});
      const line = ex.jsonl.split('\n').find((l) => l.includes(a.entry.id));
      assert.ok(line, 'the export holds the entry');
      const row = { ...JSON.parse(line), status: 'superseded', supersededBy: b.entry.id };
      await api.testing.client.execute('tacit.import', { jsonl: JSON.stringify(row) + '\n' });
    }
    let tree = await vscode.commands.executeCommand<GroupNode[]>('tacit.explorer.refresh');
    const old = findEntry(tree!, a.entry.id);
    assert.equal(old?.path[0].label, 'Superseded');
    assert.match(api.testing.explorer.getTreeItem(old.node).contextValue!, /\brestorable\b/);
    const restored = await vscode.commands.executeCommand<Entry>('tacit.restoreEntry', old.node);
    assert.equal(restored!.status, 'active');
    tree = await vscode.commands.executeCommand<GroupNode[]>('tacit.explorer.refresh');
    assert.equal(findEntry(tree!, a.entry.id)?.path[0].label, 'Conventions');
    for (const id of [a.entry.id, b.entry.id]) await vscode.commands.executeCommand('tacit.forgetEntry', id);
  });

  it('an instruction file shows its findings as diagnostics, with a fix and an example to open', async () => {
    const agents = vscode.Uri.joinPath(ws(), 'AGENTS.md');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(agents));
    const diagnostics = await until('the diagnostics of AGENTS.md', async () => {
      const d = vscode.languages.getDiagnostics(agents).filter((x) => x.source === 'tacit');
      return d.length >= 2 && d;
    });
    const codes = diagnostics.map((d) => `${d.range.start.line}:${String(d.code)}`).sort();
    assert.deepEqual(codes, ['2:packageManager', '3:path']);
    const manager = diagnostics.find((d) => d.code === 'packageManager')!;
    assert.equal(manager.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(manager.message, /`pnpm-lock\.yaml` is checked in/);
    assert.equal(manager.relatedInformation?.[0]?.location.uri.fsPath, path.join(ws().fsPath, 'pnpm-lock.yaml'));

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', agents, manager.range);
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Replace with `pnpm install` (what the repository shows)'), titles.join(' | '));
    const open = actions.find((a) => a.title === 'Open an example: pnpm-lock.yaml:1');
    assert.ok(open?.command, titles.join(' | '));
    await vscode.commands.executeCommand(open.command.command, ...(open.command.arguments ?? []));
    await until('the example in the editor', async () => vscode.window.activeTextEditor?.document.uri.fsPath === path.join(ws().fsPath, 'pnpm-lock.yaml'), 10000);
  });

  it('Write Instruction Files previews each file as a diff, writes only once confirmed', async () => {
    const claude = path.join(ws().fsPath, 'CLAUDE.md');
    const declined = await vscode.commands.executeCommand<WriteInstructionsResult>('tacit.writeInstructionFiles', { format: 'claude', confirm: false });
    assert.equal(declined!.written, 0);
    assert.deepEqual(declined!.files.map((f) => [f.path, f.created]), [['CLAUDE.md', true]]);
    assert.equal(fs.existsSync(claude), false, 'nothing written without confirmation');
    const diffs = () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .map((t) => t.input)
        .filter((i): i is vscode.TabInputTextDiff => i instanceof vscode.TabInputTextDiff && i.modified.scheme === 'tacit-planned');
    await until('the preview of CLAUDE.md', async () => diffs().some((d) => d.modified.path === '/CLAUDE.md'), 10000);
    const preview = await vscode.workspace.openTextDocument(diffs().find((d) => d.modified.path === '/CLAUDE.md')!.modified);
    assert.match(preview.getText(), /<!-- tacit:begin -->[\s\S]*<!-- tacit:end -->/);
    assert.ok(declined!.files[0].rules.length > 0, 'the preview has rules');
    assert.equal(preview.getText(), declined!.files[0].content);

    const agents = path.join(ws().fsPath, 'AGENTS.md');
    const before = fs.readFileSync(agents, 'utf8');
    const wrote = await vscode.commands.executeCommand<WriteInstructionsResult>('tacit.writeInstructionFiles', { format: 'agents', confirm: true });
    assert.equal(wrote!.written, 1);
    await until('the diff of AGENTS.md against the file on disk', async () => diffs().some((d) => d.original.scheme === 'file' && d.original.fsPath === agents), 10000);
    const after = fs.readFileSync(agents, 'utf8');
    assert.ok(after.startsWith(before), 'the hand-written rules are kept as they were');
    assert.match(after, /<!-- tacit:begin -->[\s\S]*<!-- tacit:end -->/);
    const again = await vscode.commands.executeCommand<WriteInstructionsResult>('tacit.writeInstructionFiles', { format: 'agents', confirm: true });
    assert.equal(again!.files.filter((f) => f.changed).length, 0, 'a second write changes nothing');
    assert.equal(fs.readFileSync(agents, 'utf8'), after);
  });

  it('language-model tools are registered and return context', async () => {
    const names = vscode.lm.tools.map((t) => t.name);
    for (const n of ['tacit_assemble_context', 'tacit_recall', 'tacit_remember']) assert.ok(names.includes(n), `${n} in vscode.lm.tools`);
    const input = { query: 'which async runtime do we use?' };
    let text: string;
    try {
      const result = await vscode.lm.invokeTool('tacit_assemble_context', { input, toolInvocationToken: undefined });
      text = toolText(result);
      console.log('      (through vscode.lm.invokeTool)');
    } catch (e) {
      console.log(`      (vscode.lm.invokeTool unavailable: ${e}; invoking the tool directly)`);
      text = toolText(await api.testing.tools.context.invoke({ input, toolInvocationToken: undefined }));
    }
    assert.match(text, /tokio/);

    const recall = toolText(await api.testing.tools.recall.invoke({ input: { query: 'how do we format Rust code?' }, toolInvocationToken: undefined }));
    assert.match(recall, /rustfmt/);
    const fileCtx = toolText(await api.testing.tools.context.invoke({ input: { filePath: 'src/main.rs' }, toolInvocationToken: undefined }));
    assert.match(fileCtx, /tokio/);
  });

  it('the API object assembles context for other extensions', async () => {
    const r = await api.assembleContext({ uri: vscode.Uri.joinPath(ws(), 'src', 'main.rs').toString() });
    assert.ok(allScored(r).some((s) => s.entry.value === 'tokio'));
    await assert.rejects(api.recall({ query: ' ' }), /needs a query/);
  });

  it('settings reach the server through didChangeConfiguration', async () => {
    const cfg = vscode.workspace.getConfiguration('tacit');
    await cfg.update('context.budgetTokens', 321, vscode.ConfigurationTarget.Global);
    try {
      await until('the new budget', async () => (await api.assembleContext({ query: 'tests' })).budgetTokens === 321, 20000);
    } finally {
      await cfg.update('context.budgetTokens', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('export and import round-trip through a file', async () => {
    const file = path.join(os.tmpdir(), `tacit-export-${process.pid}.jsonl`);
    const ex = await vscode.commands.executeCommand<ExportResult>('tacit.exportMemory', file);
    assert.ok(ex!.count > 0);
    assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, ex!.count);
    const im = await vscode.commands.executeCommand<ImportResult>('tacit.importMemory', file);
    assert.equal(im!.imported, ex!.count);
    fs.rmSync(file, { force: true });
  });

  it('Reindex Workspace runs an index with progress', async () => {
    const seen: string[] = [];
    const sub = api.testing.client.onIndexProgress((p) => seen.push(p.kind));
    try {
      const r = await vscode.commands.executeCommand<{ started: boolean; roots: string[] }>('tacit.reindexWorkspace');
      assert.equal(r!.started, true);
      await until('the end of the index run', async () => seen.includes('end'), 60000);
      assert.equal(seen[0], 'begin');
    } finally {
      sub.dispose();
    }
  });

  it('a missing binary fails with a fix-it, and the right path recovers', async () => {
    const cfg = vscode.workspace.getConfiguration('tacit');
    const good = cfg.get<string>('server.path');
    await cfg.update('server.path', '/nonexistent/tacit', vscode.ConfigurationTarget.Global);
    try {
      await until('the failed state', async () => api.testing.client.state === 'failed', 20000);
      assert.match(api.testing.client.lastError!, /tacit\.server\.path is set to "\/nonexistent\/tacit"/);
      assert.match(api.testing.client.problemShown ?? '', /nonexistent/, 'the problem is on screen');
      await until('the error in the status bar', async () => api.testing.statusBar.text === '$(error) tacit', 5000);
      await assert.rejects(api.recall({ query: 'x' }), /nonexistent/);
    } finally {
      await cfg.update('server.path', good, vscode.ConfigurationTarget.Global);
    }
    await until('the restart', async () => api.testing.client.state === 'running', 30000);
    assert.equal(api.testing.client.problemShown, undefined, 'the stale notification is gone once the path is fixed');
  });

  it('no binary anywhere: says how to install it, and Choose tacit Binary… recovers', async () => {
    const cfg = vscode.workspace.getConfiguration('tacit');
    const good = cfg.get<string>('server.path')!;
    // Empty: the bundled binary (none in a development checkout), then PATH (none here).
    await cfg.update('server.path', '', vscode.ConfigurationTarget.Global);
    try {
      await until('the failed state', async () => api.testing.client.state === 'failed', 20000);
      assert.equal(api.testing.client.notFound, true, 'the explorer shows its not-found welcome view');
      assert.match(api.testing.client.lastError!, /cargo install --path server/);
      assert.match(api.testing.client.lastError!, /scripts\/package/);
      assert.doesNotMatch(api.testing.client.lastError!, /cargo build/);
      assert.ok(api.testing.client.problemShown, 'the problem is on screen');
      const chosen = await vscode.commands.executeCommand<string>('tacit.chooseServerBinary', good);
      assert.equal(chosen, good);
      await until('the restart', async () => api.testing.client.state === 'running', 30000);
      assert.equal(api.testing.client.notFound, false);
      assert.equal(api.testing.client.problemShown, undefined, 'the notification went with the problem');
    } finally {
      await cfg.update('server.path', good, vscode.ConfigurationTarget.Global);
    }
    await until('running', async () => api.testing.client.state === 'running', 30000);
  });

  it('restarts the server', async () => {
    const ok = await vscode.commands.executeCommand('tacit.restartServer');
    assert.equal(ok, true, `restarted (${api.testing.client.lastError ?? ''})`);
    assert.equal(api.testing.client.state, 'running');
    const r = await api.recall({ query: 'async runtime' });
    assert.ok(r.entries.length > 0);
  });
});
