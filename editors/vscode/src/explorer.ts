// The Memory Explorer view: Pinned, Conventions by language, Procedures, Episodes, Superseded.

import * as vscode from 'vscode';
import { TacitClient } from './client';
import { Cmd, Entry, errorMessage, ListResult } from './protocol';
import { buildTree, entryContextValue, entryDescription, entryLabel, entryMarkdown, findEntry, GroupNode, TreeNode } from './tree';

export class MemoryExplorer implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  static readonly viewId = 'tacit.memoryExplorer';
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private groups: GroupNode[] = [];
  private parents = new Map<string, GroupNode>();
  private loading: Promise<GroupNode[]> | undefined;
  private stale = true;
  private timer: NodeJS.Timeout | undefined;
  readonly view: vscode.TreeView<TreeNode>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly client: TacitClient) {
    this.view = vscode.window.createTreeView(MemoryExplorer.viewId, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      this.changed,
      client.onDidChangeMemory(() => this.scheduleRefresh()),
      client.onDidChangeState(() => this.scheduleRefresh()),
    );
  }

  private scheduleRefresh(): void {
    this.stale = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(undefined), 150);
  }

  /** Reloads from the server now and returns the tree (the `tacit.explorer.refresh` command). */
  async refresh(): Promise<GroupNode[]> {
    this.stale = true;
    const groups = await this.load();
    this.changed.fire(undefined);
    return groups;
  }

  /** The tree as last loaded. */
  get tree(): GroupNode[] {
    return this.groups;
  }

  private load(): Promise<GroupNode[]> {
    if (!this.stale && !this.loading) return Promise.resolve(this.groups);
    if (!this.loading) {
      this.stale = false;
      this.loading = this.fetch().finally(() => (this.loading = undefined));
    }
    return this.loading;
  }

  private async fetch(): Promise<GroupNode[]> {
    if (this.client.state !== 'running') {
      this.groups = [];
      this.view.description = undefined;
      return this.groups;
    }
    try {
      const limit = vscode.workspace.getConfiguration('tacit').get<number>('explorer.limit') ?? 500;
      const [active, inactive] = await Promise.all([
        this.client.execute<ListResult>(Cmd.list, { statuses: ['active'], limit }),
        this.client.execute<ListResult>(Cmd.list, { statuses: ['superseded', 'expired'], limit }),
      ]);
      const entries: Entry[] = [...active.entries, ...inactive.entries];
      this.groups = entries.length ? buildTree(entries) : [];
      this.parents.clear();
      const index = (g: GroupNode) => {
        for (const c of g.children) {
          this.parents.set(c.id, g);
          if (c.kind === 'group') index(c);
        }
      };
      this.groups.forEach(index);
      this.view.description = entries.length ? `${active.entries.length} active` : undefined;
      this.view.message = undefined;
    } catch (e) {
      this.groups = [];
      this.view.message = `Could not list memories: ${errorMessage(e)}`;
    }
    return this.groups;
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (!node) return this.load();
    return node.kind === 'group' ? node.children : [];
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.parents.get(node.id);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const expanded = node.id === 'group:superseded' || node.id === 'group:episodes' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded;
      const item = new vscode.TreeItem(node.label, node.children.length ? expanded : vscode.TreeItemCollapsibleState.None);
      item.id = node.id;
      item.description = String(node.count);
      item.iconPath = new vscode.ThemeIcon(node.icon);
      item.contextValue = 'group';
      return item;
    }
    const e = node.entry;
    const item = new vscode.TreeItem(entryLabel(e), vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = entryDescription(e);
    item.tooltip = new vscode.MarkdownString(entryMarkdown(e));
    item.contextValue = entryContextValue(e);
    item.iconPath = new vscode.ThemeIcon(
      e.status !== 'active' ? 'circle-slash' : e.layer === 'pinned' ? 'pinned' : e.layer === 'procedure' ? 'list-ordered' : e.layer === 'episode' ? 'history' : 'lightbulb',
    );
    if (e.examples?.length) {
      item.command = { command: 'tacit.goToEvidence', title: 'Go to Evidence', arguments: [node] };
    }
    return item;
  }

  /** Reveals an entry by id (after a refresh), e.g. after "Remember…". */
  async reveal(id: string): Promise<boolean> {
    await this.refresh();
    const hit = findEntry(this.groups, id);
    if (!hit) return false;
    try {
      await this.view.reveal(hit.node, { select: true, focus: false, expand: true });
    } catch {
      // The view may be hidden; revealing is a courtesy.
    }
    return true;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
