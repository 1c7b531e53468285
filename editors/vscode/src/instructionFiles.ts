// "tacit: Write Instruction Files…": pick a format, see each file tacit would write as a
// diff against what is on disk, then write. The server plans and writes
// (`tacit.writeInstructions`, a dry run first); the extension only shows and asks.

import * as vscode from 'vscode';
import { TacitClient } from './client';
import { Cmd, describeWrite, INSTRUCTION_FORMATS, InstructionFormat, InputError, WriteInstructionsResult } from './protocol';

/** The scheme of the planned files shown on the right of the diffs. */
export const PLANNED_SCHEME = 'tacit-planned';

export interface WriteInstructionsInput {
  format?: InstructionFormat;
  /** true: write without asking; false: preview only. Default: ask. */
  confirm?: boolean;
}

export class InstructionFiles implements vscode.Disposable {
  /** The planned content of each previewed file, by the URI's path and query. */
  private readonly planned = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly registration: vscode.Disposable;

  constructor(private readonly client: TacitClient) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(PLANNED_SCHEME, {
      onDidChange: this.changed.event,
      provideTextDocumentContent: (uri) => this.planned.get(uri.path + '?' + uri.query) ?? '',
    });
  }

  private show(path: string, side: 'before' | 'after', content: string, format: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: PLANNED_SCHEME, path: '/' + path, query: `${format}-${side}` });
    this.planned.set(uri.path + '?' + uri.query, content);
    this.changed.fire(uri);
    return uri;
  }

  /** Previews the files of a format as diffs, then writes them once confirmed. Returns what the server did (the dry run's plan when nothing was written). */
  async write(input: WriteInstructionsInput = {}): Promise<WriteInstructionsResult | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new InputError('tacit: open a folder first: instruction files are written into a workspace.');
    let format = input.format;
    if (!format) {
      const pick = await vscode.window.showQuickPick(
        INSTRUCTION_FORMATS.map((f) => ({ label: f.format, description: f.tool, detail: f.files, format: f.format })),
        { title: 'tacit: Write Instruction Files', placeHolder: 'For which tool? Each file is shown as a diff before anything is written.' },
      );
      if (!pick) return undefined;
      format = pick.format;
    }
    const args = { format, root: folder.uri.fsPath };
    const plan = await this.client.execute<WriteInstructionsResult>(Cmd.writeInstructions, { ...args, dryRun: true });
    const changed = plan.files.filter((f) => f.changed);
    if (!changed.length) {
      void vscode.window.showInformationMessage(`tacit: ${describeWrite(plan, true)}.`);
      return plan;
    }
    for (const file of changed) {
      const onDisk = vscode.Uri.joinPath(folder.uri, file.path);
      const left = file.created ? this.show(file.path, 'before', '', format) : onDisk;
      const right = this.show(file.path, 'after', file.content, format);
      await vscode.commands.executeCommand('vscode.diff', left, right, `${file.path} ↔ tacit (${format})`, { preview: false });
    }
    let confirm = input.confirm;
    if (confirm === undefined) {
      const answer = await vscode.window.showInformationMessage(
        `tacit: write ${changed.length === 1 ? changed[0].path : `${changed.length} instruction files`}?`,
        { modal: true, detail: `${describeWrite(plan, true)}. Only tacit's section (between <!-- tacit:begin --> and <!-- tacit:end -->) changes.` },
        'Write',
      );
      confirm = answer === 'Write';
    }
    if (!confirm) return plan;
    const result = await this.client.execute<WriteInstructionsResult>(Cmd.writeInstructions, args);
    void vscode.window.showInformationMessage(`tacit: ${describeWrite(result, false)}.`);
    return result;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
