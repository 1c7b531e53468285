// "tacit: Show Context for This File": the assembled context as a markdown preview, served
// from a read-only virtual document.

import * as vscode from 'vscode';

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
