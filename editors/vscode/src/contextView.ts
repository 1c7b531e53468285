// "tacit: Show Context for This File": the assembled context as a markdown preview, served
// from a read-only virtual document.

import * as vscode from 'vscode';
import { ContextResult } from './protocol';

export const SCHEME = 'tacit-context';

export class ContextDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly docs = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? '# tacit\n\nThis context is no longer available: run "tacit: Show Context for This File" again.';
  }

  /** Stores the rendering under a stable URI per file (or query) and returns the URI. */
  set(name: string, markdown: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${name.replace(/[\\/]/g, '_')} — context.md` });
    this.docs.set(uri.toString(), markdown);
    this.changed.fire(uri);
    return uri;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}

/** The preview's text: the server's markdown plus a footer with budget, embedder and timing. */
export function renderContext(result: ContextResult, title: string): string {
  const body = result.markdown?.trim() ? result.markdown.trim() : `# ${title}\n\n_No memory is relevant here yet._`;
  const e = result.embedder;
  const embedder = e?.fallback ? `⚠️ lexical fallback embedder (${e.fallbackReason ?? 'model not found'}): matches words, not meaning` : `embedder ${e?.id ?? '?'}`;
  const n = (result.pinned?.length ?? 0) + (result.memories?.length ?? 0) + (result.procedures?.length ?? 0) + (result.episodes?.length ?? 0);
  return `${body}\n\n---\n_${n} entries · ${result.tokensUsed}/${result.budgetTokens} tokens · ${embedder} · ${result.timing?.totalMs ?? '?'} ms_\n`;
}
