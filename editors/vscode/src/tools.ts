// Language-model tools for Copilot Chat's agent mode and other chat participants:
// `tacit_assemble_context`, `tacit_recall`, `tacit_remember` (declared in package.json's
// `contributes.languageModelTools`).

import * as vscode from 'vscode';
import { TacitClient } from './client';
import { renderContext, rememberExtras } from './format';
import {
  Cmd,
  ContextResult,
  ContextToolInput,
  contextToolArgs,
  formatRecall,
  recallArgs,
  RecallInput,
  RecallResult,
  rememberArgs,
  RememberInput,
  RememberResult,
} from './protocol';

function text(s: string): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(s)]);
}

export class ContextTool implements vscode.LanguageModelTool<ContextToolInput> {
  constructor(private readonly client: TacitClient) {}

  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<ContextToolInput>): vscode.PreparedToolInvocation {
    const what = options.input.filePath ?? options.input.query ?? 'this workspace';
    return { invocationMessage: `Reading the project's conventions for ${what} from tacit` };
  }

  async invoke(options: vscode.LanguageModelToolInvocationOptions<ContextToolInput>): Promise<vscode.LanguageModelToolResult> {
    const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const active = vscode.window.activeTextEditor?.document.uri;
    const args = contextToolArgs(options.input ?? {}, roots, active?.scheme === 'file' ? active.fsPath : undefined);
    const result = await this.client.execute<ContextResult>(Cmd.assembleContext, args);
    return text(renderContext(result, 'Project context'));
  }
}

export class RecallTool implements vscode.LanguageModelTool<RecallInput> {
  constructor(private readonly client: TacitClient) {}

  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<RecallInput>): vscode.PreparedToolInvocation {
    return { invocationMessage: `Searching tacit's memory for "${options.input.query ?? ''}"` };
  }

  async invoke(options: vscode.LanguageModelToolInvocationOptions<RecallInput>): Promise<vscode.LanguageModelToolResult> {
    const input = options.input ?? {};
    const result = await this.client.execute<RecallResult>(Cmd.recall, recallArgs({ ...input, limit: input.limit ?? 10 }));
    return text(formatRecall(result));
  }
}

export class RememberTool implements vscode.LanguageModelTool<RememberInput> {
  constructor(private readonly client: TacitClient) {}

  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<RememberInput>): vscode.PreparedToolInvocation {
    const md = new vscode.MarkdownString();
    md.appendMarkdown('tacit will remember, for this repository:\n\n');
    md.appendText(options.input.text ?? '');
    return {
      invocationMessage: 'Storing a convention in tacit',
      confirmationMessages: { title: 'Remember this convention?', message: md },
    };
  }

  async invoke(options: vscode.LanguageModelToolInvocationOptions<RememberInput>): Promise<vscode.LanguageModelToolResult> {
    const input = options.input ?? {};
    const r = await this.client.execute<RememberResult>(Cmd.remember, rememberArgs({ ...input, tags: input.tags, scope: undefined }));
    const how = r.merged ? 'Merged into the existing memory' : 'Remembered';
    const sup = r.superseded.length ? ` It supersedes ${r.superseded.join(', ')}.` : '';
    const redacted = r.redacted > 0 ? ` (${rememberExtras({ superseded: [], redacted: r.redacted })})` : '';
    return text(`${how} ${r.entry.id}: ${r.entry.text}${sup}${redacted}`);
  }
}

export interface Tools {
  context: ContextTool;
  recall: RecallTool;
  remember: RememberTool;
}

export function registerTools(client: TacitClient): { tools: Tools; disposables: vscode.Disposable[] } {
  const tools: Tools = { context: new ContextTool(client), recall: new RecallTool(client), remember: new RememberTool(client) };
  const disposables: vscode.Disposable[] = [];
  // `vscode.lm.registerTool` is API since 1.95; older hosts just lack the tools.
  if (typeof vscode.lm?.registerTool === 'function') {
    disposables.push(
      vscode.lm.registerTool('tacit_assemble_context', tools.context),
      vscode.lm.registerTool('tacit_recall', tools.recall),
      vscode.lm.registerTool('tacit_remember', tools.remember),
    );
  }
  return { tools, disposables };
}
