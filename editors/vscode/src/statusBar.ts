// Status bar item: indexing progress from `$/progress`, then memory counts; click opens the
// Memory Explorer.

import * as vscode from 'vscode';
import { IndexProgress, TacitClient } from './client';
import { Cmd, countByStatus, errorMessage, StatusResult } from './protocol';
import { statusText } from './statusText';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private indexing: IndexProgress | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The last `tacit.status`, for tests and the tooltip. */
  last: StatusResult | undefined;

  constructor(private readonly client: TacitClient) {
    this.item = vscode.window.createStatusBarItem('tacit.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'tacit';
    this.item.command = 'tacit.openExplorer';
    this.disposables.push(
      this.item,
      client.onDidChangeState(() => this.schedule()),
      client.onDidChangeMemory(() => this.schedule()),
      client.onIndexProgress((p) => {
        this.indexing = p.kind === 'end' ? undefined : { ...this.indexing, ...p };
        this.render();
        if (p.kind === 'end') this.schedule();
      }),
    );
    this.render();
    this.item.show();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), 200);
  }

  async update(): Promise<void> {
    if (this.client.state === 'running') {
      try {
        this.last = await this.client.execute<StatusResult>(Cmd.status, {});
      } catch (e) {
        this.client.output.appendLine(`[client] status: ${errorMessage(e)}`);
      }
    }
    this.render();
  }

  private render(): void {
    const s = statusText({
      state: this.client.state,
      error: this.client.lastError,
      indexing: this.indexing,
      counts: this.last ? countByStatus(this.last.counts) : undefined,
      byLayer: this.last?.counts,
      fallback: this.last?.embedder?.fallback,
      store: this.last?.store,
      teamStore: this.last?.teamStore,
      residentBytes: this.last?.residentBytes,
    });
    this.item.text = s.text;
    this.item.tooltip = new vscode.MarkdownString(s.tooltip);
    this.item.backgroundColor = s.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : s.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  get text(): string {
    return this.item.text;
  }

  get tooltip(): string {
    const t = this.item.tooltip;
    return typeof t === 'string' ? t : t?.value ?? '';
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
