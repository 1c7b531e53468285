// The extension's commands (palette, editor menu and Memory Explorer actions). Each accepts
// optional arguments so that it can also be called programmatically (and by the tests)
// without any UI, and returns what it did.

import * as vscode from 'vscode';
import { TacitClient } from './client';
import { ContextDocuments } from './contextView';
import { count, rememberedHow, renderContext, rememberExtras } from './format';
import { MemoryExplorer } from './explorer';
import {
  Cmd,
  contextArgs,
  ContextResult,
  Entry,
  entryLine,
  errorMessage,
  ExportResult,
  ImportResult,
  InputError,
  ListResult,
  parseExample,
  recallArgs,
  RecallResult,
  ReindexResult,
  rememberArgs,
  RememberInput,
  RememberResult,
  Scored,
} from './protocol';
import { EntryNode, entryDescription, entryLabel } from './tree';
import { InstructionFiles, WriteInstructionsInput } from './instructionFiles';

/** What a Memory Explorer action receives: a tree node, an entry, or an id. */
type EntryRef = EntryNode | Entry | string | undefined;

function idOf(ref: EntryRef): string | undefined {
  if (!ref) return undefined;
  if (typeof ref === 'string') return ref;
  if ('kind' in ref && ref.kind === 'entry') return ref.entry.id;
  return (ref as Entry).id;
}

function entryOf(ref: EntryRef): Entry | undefined {
  if (!ref || typeof ref === 'string') return undefined;
  if ('kind' in ref && ref.kind === 'entry') return ref.entry;
  return ref as Entry;
}

/** The file a context is about: a file URI's path, else the URI itself. */
function fileArg(uri: vscode.Uri): string {
  return uri.scheme === 'file' ? uri.fsPath : uri.toString();
}

/** Asks for a text to remember, the editor's selection as the default. */
async function askText(title: string, prompt: string, placeHolder: string): Promise<string | undefined> {
  const editor = vscode.window.activeTextEditor;
  const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
  return vscode.window.showInputBox({
    title,
    prompt,
    placeHolder,
    value: selected.trim().slice(0, 1000),
    validateInput: (v) => (v.trim() ? undefined : 'Write what tacit should remember'),
  });
}

export class Commands {
  /** The last error a command showed, and the last confirmation of a remember (for tests). */
  lastError: string | undefined;
  lastMessage: string | undefined;

  constructor(
    private readonly client: TacitClient,
    private readonly explorer: MemoryExplorer,
    private readonly docs: ContextDocuments,
    private readonly instructions: InstructionFiles,
  ) {}

  register(): vscode.Disposable[] {
    const wrap =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R | undefined> => {
        try {
          return await fn.apply(this, args);
        } catch (e) {
          const msg = e instanceof InputError ? e.message : `tacit: ${errorMessage(e)}`;
          this.lastError = msg;
          void vscode.window.showErrorMessage(msg);
          if (!(e instanceof InputError)) this.client.output.appendLine(`[client] ${msg}`);
          return undefined;
        }
      };
    const table: [string, (...args: never[]) => Promise<unknown>][] = [
      ['tacit.showContext', this.showContext],
      ['tacit.askMemory', this.askMemory],
      ['tacit.rememberSelection', this.rememberSelection],
      ['tacit.rememberText', this.rememberText],
      ['tacit.rememberForTeam', this.rememberForTeam],
      ['tacit.forgetEntry', this.forget],
      ['tacit.reindexWorkspace', this.reindex],
      ['tacit.exportMemory', this.exportMemory],
      ['tacit.importMemory', this.importMemory],
      ['tacit.showServerLog', this.showLog],
      ['tacit.restartServer', this.restart],
      ['tacit.chooseServerBinary', this.chooseServerBinary],
      ['tacit.openExplorer', this.openExplorer],
      ['tacit.explorer.refresh', this.refreshExplorer],
      ['tacit.editEntry', this.edit],
      ['tacit.restoreEntry', this.restore],
      ['tacit.pinEntry', this.pin],
      ['tacit.unpinEntry', this.unpin],
      ['tacit.goToEvidence', this.goToEvidence],
      ['tacit.copyEntry', this.copy],
      ['tacit.writeInstructionFiles', this.writeInstructionFiles],
    ];
    return table.map(([id, fn]) => vscode.commands.registerCommand(id, wrap(fn as (...args: unknown[]) => Promise<unknown>)));
  }

  /** Assembled context for a file (default: the active editor's) and optional query, shown as a preview. */
  async showContext(arg?: vscode.Uri | { uri?: string; query?: string; preview?: boolean }): Promise<ContextResult | undefined> {
    let uri: string | undefined;
    let query: string | undefined;
    let preview = true;
    if (arg instanceof vscode.Uri) uri = fileArg(arg);
    else if (arg) {
      uri = arg.uri;
      query = arg.query;
      preview = arg.preview !== false;
    }
    if (!uri && !query) {
      const doc = vscode.window.activeTextEditor?.document;
      if (doc && doc.uri.scheme !== 'tacit-context') uri = fileArg(doc.uri);
    }
    if (!uri && !query) {
      query = await vscode.window.showInputBox({ title: 'tacit: Show Context', prompt: 'No file is open: what is the context for?', placeHolder: 'e.g. how do we handle errors?' });
      if (!query) return undefined;
    }
    const result = await this.client.execute<ContextResult>(Cmd.assembleContext, contextArgs({ query, uri }));
    const name = uri ? uri.split(/[\\/]/).pop() ?? uri : query ?? 'context';
    const title = uri ? `Project context — ${name}` : `Project context — ${query}`;
    const docUri = this.docs.set(name, renderContext(result, title));
    if (preview) {
      try {
        await vscode.commands.executeCommand('markdown.showPreviewToSide', docUri);
      } catch {
        await vscode.window.showTextDocument(docUri, { preview: true, viewColumn: vscode.ViewColumn.Beside });
      }
    }
    return result;
  }

  /** Quick pick over recall results, refreshed as you type; with a query argument, returns them without UI. */
  async askMemory(query?: string): Promise<RecallResult | Scored | undefined> {
    if (typeof query === 'string') return this.client.execute<RecallResult>(Cmd.recall, recallArgs({ query }));
    type Item = vscode.QuickPickItem & { scored?: Scored };
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = 'tacit: Ask Memory';
    qp.placeholder = 'Ask about a convention, a workflow, a decision…';
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    let seq = 0;
    let timer: NodeJS.Timeout | undefined;
    const search = (value: string) => {
      const mine = ++seq;
      if (!value.trim()) {
        qp.items = [];
        return;
      }
      qp.busy = true;
      this.client
        .execute<RecallResult>(Cmd.recall, recallArgs({ query: value, limit: 20 }))
        .then((r) => {
          if (mine !== seq) return;
          qp.items = r.entries.length
            ? r.entries.map((s) => ({
                label: entryLabel(s.entry, 120),
                description: `${s.entry.layer}${s.entry.language ? ` · ${s.entry.language}` : ''} · ${entryDescription(s.entry)}`,
                detail: `score ${s.score.toFixed(2)}${s.entry.examples?.length ? ` · ${s.entry.examples.join(', ')}` : ''}`,
                alwaysShow: true,
                scored: s,
              }))
            : [{ label: 'Nothing in memory matches that.', alwaysShow: true }];
        })
        .catch((e) => (qp.items = [{ label: `$(error) ${errorMessage(e)}`, alwaysShow: true }]))
        .finally(() => mine === seq && (qp.busy = false));
    };
    qp.onDidChangeValue((v) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => search(v), 250);
    });
    const picked = await new Promise<Scored | undefined>((resolve) => {
      qp.onDidAccept(() => {
        resolve(qp.selectedItems[0]?.scored);
        qp.hide();
      });
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
    qp.dispose();
    if (!picked) return undefined;
    await this.entryActions(picked.entry);
    return picked;
  }

  private async entryActions(entry: Entry): Promise<void> {
    const actions: (vscode.QuickPickItem & { run: () => Promise<unknown> })[] = [];
    if (entry.examples?.length) actions.push({ label: '$(go-to-file) Go to Evidence', run: () => this.goToEvidence(entry) });
    actions.push({ label: '$(list-tree) Show in Memory Explorer', run: () => this.explorer.reveal(entry.id) });
    actions.push({ label: '$(copy) Copy Text', run: () => this.copy(entry) });
    if (entry.status === 'active') actions.push({ label: '$(edit) Edit…', run: () => this.edit(entry) });
    if (entry.layer !== 'pinned' && entry.status === 'active') actions.push({ label: '$(pin) Pin', run: () => this.pin(entry) });
    actions.push({ label: '$(trash) Forget', run: () => this.forget(entry) });
    const a = await vscode.window.showQuickPick(actions, { title: entryLabel(entry, 80), placeHolder: 'What to do with this memory?' });
    await a?.run();
  }

  /** Remembers the editor's selection (or the current line). */
  async rememberSelection(): Promise<RememberResult | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return this.rememberText();
    const sel = editor.selection;
    const text = sel.isEmpty ? editor.document.lineAt(sel.active.line).text : editor.document.getText(sel);
    if (!text.trim()) return this.rememberText();
    return this.store({ text });
  }

  /** Asks for a convention and remembers it; with an argument, remembers that without UI. */
  async rememberText(arg?: RememberInput | string): Promise<RememberResult | undefined> {
    if (typeof arg === 'string') return this.store({ text: arg });
    if (arg && typeof arg === 'object' && 'text' in arg) return this.store(arg);
    const text = await askText('tacit: Remember', 'A convention, decision or preference for this codebase (one or two sentences)', 'e.g. Use thiserror for library errors; anyhow only in binaries.');
    if (!text) return undefined;
    const layer = await vscode.window.showQuickPick(
      [
        { label: 'Convention', description: 'memory', layer: 'memory' },
        { label: 'Pinned', description: 'always included in the context', layer: 'pinned' },
        { label: 'Procedure', description: 'a workflow, step by step', layer: 'procedure' },
      ],
      { title: 'tacit: Remember as…' },
    );
    if (!layer) return undefined;
    return this.store({ text, layer: layer.layer });
  }

  /**
   * Remembers for the whole team: the entry goes to the team store (`scope: "team"`), which
   * every teammate's server reads. Asks for the text (the selection is the default); with an
   * argument, remembers that without UI.
   */
  async rememberForTeam(arg?: RememberInput | string): Promise<RememberResult | undefined> {
    if (typeof arg === 'string') return this.store({ text: arg, scope: 'team' });
    if (arg && typeof arg === 'object' && 'text' in arg) return this.store({ ...arg, scope: 'team' });
    const text = await askText('tacit: Remember for the Team', "A convention or decision for everyone's copilot (it goes to the team store)", 'e.g. Never call the billing API from tests.');
    if (!text) return undefined;
    return this.store({ text, scope: 'team' });
  }

  private async store(input: RememberInput): Promise<RememberResult> {
    const result = await this.client.execute<RememberResult>(Cmd.remember, rememberArgs(input));
    const how = rememberedHow(result);
    const extra = rememberExtras(result);
    this.lastMessage = `tacit: ${how}${extra ? ` (${extra})` : ''}: ${entryLabel(result.entry, 80)}`;
    void vscode.window.showInformationMessage(this.lastMessage, 'Show', 'Undo').then((a) => {
      if (a === 'Show') void this.explorer.reveal(result.entry.id);
      if (a === 'Undo' && !result.merged) void this.forget(result.entry.id, { confirm: false });
    });
    return result;
  }

  /** Forgets (hard-deletes) an entry: from the explorer, by id, or picked from a list. */
  async forget(ref?: EntryRef, opts?: { confirm?: boolean }): Promise<string | undefined> {
    let id = idOf(ref);
    let entry = entryOf(ref);
    if (!id) {
      const list = await this.client.execute<ListResult>(Cmd.list, { statuses: ['active', 'superseded', 'expired'], limit: 1000 });
      const pick = await vscode.window.showQuickPick(
        list.entries.map((e) => ({ label: entryLabel(e, 120), description: `${e.layer} · ${entryDescription(e)}`, entry: e })),
        { title: 'tacit: Forget', placeHolder: 'Which memory should be deleted?', matchOnDescription: true },
      );
      if (!pick) return undefined;
      id = pick.entry.id;
      entry = pick.entry;
    }
    const confirm = opts?.confirm ?? vscode.workspace.getConfiguration('tacit').get<boolean>('confirmForget', true);
    if (confirm) {
      const ok = await vscode.window.showWarningMessage(
        `Forget "${entry ? entryLabel(entry, 80) : id}"?`,
        { modal: true, detail: 'It is deleted from the store and from every older version of it on disk. This cannot be undone.' },
        'Forget',
      );
      if (ok !== 'Forget') return undefined;
    }
    await this.client.execute(Cmd.forget, { id });
    return id;
  }

  async reindex(): Promise<ReindexResult> {
    const r = await this.client.execute<ReindexResult>(Cmd.reindex, {});
    void vscode.window.setStatusBarMessage(`tacit: reindexing ${count(r.roots.length, 'folder')}…`, 3000);
    return r;
  }

  /** Writes every layer as JSON lines to a file (asked for, or given). */
  async exportMemory(target?: vscode.Uri | string): Promise<ExportResult | undefined> {
    let uri = typeof target === 'string' ? vscode.Uri.file(target) : target;
    if (!uri) {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      uri = await vscode.window.showSaveDialog({
        title: 'tacit: Export Memory',
        defaultUri: folder ? vscode.Uri.joinPath(folder, 'tacit-memory.jsonl') : undefined,
        filters: { 'JSON lines': ['jsonl'] },
      });
      if (!uri) return undefined;
    }
    const r = await this.client.execute<ExportResult>(Cmd.export, {});
    await vscode.workspace.fs.writeFile(uri, Buffer.from(r.jsonl, 'utf8'));
    void vscode.window.showInformationMessage(`tacit: exported ${count(r.count, 'entry', 'entries')} to ${uri.fsPath}`);
    return { ...r, path: uri.fsPath };
  }

  async importMemory(source?: vscode.Uri | string): Promise<ImportResult | undefined> {
    let uri = typeof source === 'string' ? vscode.Uri.file(source) : source;
    if (!uri) {
      const picked = await vscode.window.showOpenDialog({ title: 'tacit: Import Memory', canSelectMany: false, filters: { 'JSON lines': ['jsonl', 'json'] } });
      if (!picked?.[0]) return undefined;
      uri = picked[0];
    }
    const jsonl = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    const r = await this.client.execute<ImportResult>(Cmd.import, { jsonl });
    void vscode.window.showInformationMessage(`tacit: imported ${count(r.imported, 'entry', 'entries')}`);
    return r;
  }

  async showLog(): Promise<void> {
    this.client.output.show(true);
  }

  async restart(): Promise<boolean> {
    return this.client.restart();
  }

  /**
   * Asks for the tacit binary (or takes its path) and saves it as `tacit.server.path`; the
   * change restarts the server. Returns the path saved.
   */
  async chooseServerBinary(file?: vscode.Uri | string): Promise<string | undefined> {
    let chosen = typeof file === 'string' ? file : file?.fsPath;
    if (!chosen) {
      const uris = await vscode.window.showOpenDialog({ title: 'tacit: Choose the tacit Binary', canSelectMany: false, openLabel: 'Use this tacit binary' });
      chosen = uris?.[0]?.fsPath;
    }
    if (!chosen) return undefined;
    await vscode.workspace.getConfiguration('tacit').update('server.path', chosen, vscode.ConfigurationTarget.Global);
    return chosen;
  }

  async openExplorer(): Promise<void> {
    await vscode.commands.executeCommand(`${MemoryExplorer.viewId}.focus`);
  }

  async refreshExplorer() {
    return this.explorer.refresh();
  }

  async edit(ref?: EntryRef, newText?: string): Promise<Entry | undefined> {
    const id = idOf(ref);
    if (!id) throw new InputError('Edit works on a memory: use it from the Memory Explorer.');
    const entry = entryOf(ref) ?? (await this.client.execute<Entry>(Cmd.get, { id }));
    const text =
      newText ??
      (await vscode.window.showInputBox({
        title: 'tacit: Edit Memory',
        value: entry.text,
        validateInput: (v) => (v.trim() ? undefined : 'The text cannot be empty (use Forget to delete it)'),
      }));
    if (!text || text.trim() === entry.text) return undefined;
    return this.client.execute<Entry>(Cmd.update, { id, text: text.trim() });
  }

  async restore(ref?: EntryRef): Promise<Entry | undefined> {
    const id = idOf(ref);
    if (!id) throw new InputError('Restore works on a superseded memory: use it from the Memory Explorer.');
    return this.client.execute<Entry>(Cmd.restore, { id });
  }

  async pin(ref?: EntryRef): Promise<Entry | undefined> {
    const id = idOf(ref);
    if (!id) throw new InputError('Pin works on a memory: use it from the Memory Explorer.');
    return this.client.execute<Entry>(Cmd.pin, { id });
  }

  async unpin(ref?: EntryRef): Promise<unknown> {
    const id = idOf(ref);
    if (!id) throw new InputError('Unpin works on a pinned block: use it from the Memory Explorer.');
    return this.client.execute(Cmd.unpin, { id });
  }

  async copy(ref?: EntryRef): Promise<void> {
    const entry = entryOf(ref) ?? (idOf(ref) ? await this.client.execute<Entry>(Cmd.get, { id: idOf(ref) }) : undefined);
    if (entry) await vscode.env.clipboard.writeText(entryLine(entry));
  }

  /** Opens an entry's example `file:line` (asks which when there are several). */
  async goToEvidence(ref?: EntryRef, which?: number): Promise<vscode.TextEditor | undefined> {
    const entry = entryOf(ref) ?? (idOf(ref) ? await this.client.execute<Entry>(Cmd.get, { id: idOf(ref) }) : undefined);
    const examples = entry?.examples ?? [];
    if (!examples.length) throw new InputError('This memory has no example to go to.');
    let example = examples[which ?? 0];
    if (examples.length > 1 && which === undefined) {
      const pick = await vscode.window.showQuickPick(examples, { title: 'tacit: Go to Evidence' });
      if (!pick) return undefined;
      example = pick;
    }
    const { path, line } = parseExample(example);
    const uri = await this.locate(path);
    if (!uri) throw new InputError(`${path} is not in any workspace folder.`);
    const pos = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
    return vscode.window.showTextDocument(uri, { selection: new vscode.Range(pos, pos), preview: true });
  }

  /** Picks a format, previews its files as diffs and writes them once confirmed. */
  async writeInstructionFiles(input?: WriteInstructionsInput) {
    return this.instructions.write(input);
  }

  private async locate(path: string): Promise<vscode.Uri | undefined> {
    if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) return vscode.Uri.file(path);
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const uri = vscode.Uri.joinPath(folder.uri, path);
      try {
        await vscode.workspace.fs.stat(uri);
        return uri;
      } catch {
        // not in this folder
      }
    }
    return undefined;
  }
}
