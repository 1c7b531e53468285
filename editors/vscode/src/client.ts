// The language client: finds the binary, starts/stops/restarts `tacit lsp`, maps settings to
// initializationOptions and didChangeConfiguration, and exposes typed command execution,
// server state, indexing progress and "memory changed" events to the features.

import * as fs from 'fs';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions as LspServerOptions,
  State,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { Cmd, slimResult, STORE_CHANGED } from './protocol';
import { isNotFound, resolveServerPath, Resolved } from './serverPath';
import { needsRestart, toServerOptions, ServerOptions } from './settings';
import { StoreChanges } from './storeChanges';

export type ServerState = 'stopped' | 'starting' | 'running' | 'failed';

export interface IndexProgress {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
}

/** Commands after which the explorer and the status bar refresh. */
const MUTATING = new Set<string>([Cmd.remember, Cmd.update, Cmd.forget, Cmd.restore, Cmd.pin, Cmd.unpin, Cmd.import, 'tacit.extract']);

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    if (process.platform === 'win32') return true;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function currentServerOptions(): ServerOptions {
  const cfg = vscode.workspace.getConfiguration('tacit');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return toServerOptions((k) => cfg.get(k), process.env, folder);
}

export class TacitClient implements vscode.Disposable {
  readonly output: vscode.OutputChannel;
  private client: LanguageClient | undefined;
  private starting: Promise<boolean> | undefined;
  private _state: ServerState = 'stopped';
  private _lastError: string | undefined;
  private _server: Resolved | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  private readonly progressEmitter = new vscode.EventEmitter<IndexProgress>();
  private readonly memoryEmitter = new vscode.EventEmitter<void>();
  // One refresh per burst of `tacit/storeChanged` (an index run writes many times a second).
  private readonly storeChanges = new StoreChanges(250, 2000, (layers) => {
    this.output.appendLine(`[client] store changed: ${layers.join(', ')}`);
    this.memoryEmitter.fire();
  });
  private _notFound = false;
  private problem: { message: string; close: () => void } | undefined;
  /** Server state changes. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** `$/progress` of indexing runs. */
  readonly onIndexProgress = this.progressEmitter.event;
  /** After a write, an import, the end of an indexing run, or a `tacit/storeChanged`. */
  readonly onDidChangeMemory = this.memoryEmitter.event;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('tacit');
    this.disposables.push(
      this.output,
      this.stateEmitter,
      this.progressEmitter,
      this.memoryEmitter,
      this.storeChanges,
      vscode.workspace.onDidChangeConfiguration((e) => void this.onConfigurationChanged(e)),
    );
  }

  get state(): ServerState {
    return this._state;
  }

  get lastError(): string | undefined {
    return this._lastError;
  }

  get server(): Resolved | undefined {
    return this._server;
  }

  /** Whether the binary was not found (the explorer then offers to choose it). */
  get notFound(): boolean {
    return this._notFound;
  }

  /** The message of the problem notification on screen, if any. */
  get problemShown(): string | undefined {
    return this.problem?.message;
  }

  private setNotFound(notFound: boolean): void {
    this._notFound = notFound;
    void vscode.commands.executeCommand('setContext', 'tacit.serverNotFound', notFound);
  }

  /**
   * Shows why the server cannot run until it is fixed or dismissed. A progress notification,
   * since it is the one kind an extension can close: once the setting is fixed, the stale
   * message goes away instead of staying in the notification center.
   */
  private showProblem(message: string): void {
    this.clearProblem();
    let close: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (close = resolve));
    const problem = { message, close };
    this.problem = problem;
    void vscode.window
      .withProgress({ location: vscode.ProgressLocation.Notification, title: 'tacit', cancellable: true }, async (progress, token) => {
        progress.report({ message: `${message} [Choose tacit Binary…](command:tacit.chooseServerBinary) · [Show Log](command:tacit.showServerLog)` });
        token.onCancellationRequested(() => close());
        await closed;
      })
      .then(() => {
        if (this.problem === problem) this.problem = undefined;
      });
  }

  private clearProblem(): void {
    this.problem?.close();
    this.problem = undefined;
  }

  private setState(s: ServerState): void {
    if (this._state === s) return;
    this._state = s;
    void vscode.commands.executeCommand('setContext', 'tacit.serverRunning', s === 'running');
    this.stateEmitter.fire(s);
  }

  /** Starts the server; resolves false (after telling the user how to fix it) when it cannot. */
  start(): Promise<boolean> {
    if (this.client && this._state === 'running') return Promise.resolve(true);
    if (!this.starting) {
      this.starting = this.doStart().finally(() => (this.starting = undefined));
    }
    return this.starting;
  }

  private async doStart(): Promise<boolean> {
    this.setState('starting');
    const cfg = vscode.workspace.getConfiguration('tacit');
    const resolved = resolveServerPath({
      setting: vscode.workspace.isTrusted ? cfg.get<string>('server.path') : undefined,
      extensionPath: this.context.extensionPath,
      platform: process.platform,
      arch: process.arch,
      pathEnv: process.env.PATH,
      workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      isExecutable,
    });
    if (isNotFound(resolved)) {
      this._lastError = resolved.error;
      this.output.appendLine(`[client] ${resolved.error}\n[client] looked for: ${resolved.tried.join(', ')}`);
      this.setNotFound(true);
      this.setState('failed');
      this.showProblem(resolved.error);
      return false;
    }
    this.setNotFound(false);
    this._server = resolved;
    const extraArgs = (cfg.get<string[]>('server.extraArgs') ?? []).filter((a) => typeof a === 'string');
    const serverOptions: LspServerOptions = {
      command: resolved.path,
      args: ['lsp', ...extraArgs],
      options: { env: { ...process.env } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      outputChannel: this.output,
      initializationOptions: currentServerOptions(),
      // The server pulls the `tacit` section on didChangeConfiguration: answer with the
      // flat options it understands, not VS Code's nested settings tree.
      middleware: {
        workspace: {
          configuration: (params, token, next) => {
            const sections = params.items.map((item) => item.section);
            if (sections.every((s) => s === 'tacit')) return sections.map(() => currentServerOptions());
            return next(params, token);
          },
        },
        handleWorkDoneProgress: (token, params, next) => {
          if (String(token).startsWith('tacit/index')) this.onProgress(params);
          next(token, params);
        },
      },
      initializationFailedHandler: (error) => {
        this.output.appendLine(`[client] initialization failed: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
    };
    const client = new LanguageClient('tacit', 'tacit', serverOptions, clientOptions);
    this.client = client;
    // The store changed (this server's writes, or another process's: a CLI, another editor).
    client.onNotification(STORE_CHANGED, (params: unknown) => this.storeChanges.add(params));
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Running) this.setState('running');
      else if (e.newState === State.Stopped && this._state === 'running') this.setState('stopped');
    });
    this.output.appendLine(`[client] starting ${resolved.path} (${resolved.source}) lsp ${extraArgs.join(' ')}`);
    try {
      await client.start();
      this._lastError = undefined;
      this.clearProblem();
      this.setState('running');
      return true;
    } catch (e) {
      this._lastError = `tacit failed to start: ${e instanceof Error ? e.message : String(e)}`;
      this.output.appendLine(`[client] ${this._lastError}`);
      this.client = undefined;
      this.setState('failed');
      this.showProblem(this._lastError);
      return false;
    }
  }

  private onProgress(params: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd): void {
    if (params.kind === 'begin') {
      this.progressEmitter.fire({ kind: 'begin', title: params.title, message: params.message, percentage: params.percentage });
    } else if (params.kind === 'report') {
      this.progressEmitter.fire({ kind: 'report', message: params.message, percentage: params.percentage });
    } else {
      this.progressEmitter.fire({ kind: 'end', message: params.message });
      this.memoryEmitter.fire();
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (e) {
        this.output.appendLine(`[client] stop: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.setState('stopped');
  }

  async restart(): Promise<boolean> {
    await this.starting?.catch(() => undefined);
    await this.stop();
    const ok = await this.start();
    if (ok) this.memoryEmitter.fire();
    return ok;
  }

  private async onConfigurationChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!e.affectsConfiguration('tacit')) return;
    if (needsRestart((s) => e.affectsConfiguration(s))) {
      this.output.appendLine('[client] settings read at start changed: restarting the server');
      // What was said about the old setting no longer holds; a new start says what is wrong now.
      this.clearProblem();
      await this.restart();
      return;
    }
    if (this.client && this._state === 'running') {
      await this.client.sendNotification('workspace/didChangeConfiguration', { settings: currentServerOptions() });
      this.memoryEmitter.fire();
    }
  }

  /** Runs a server command with one JSON object argument. */
  async execute<T>(command: string, args: object = {}): Promise<T> {
    if (this._state !== 'running') {
      if (this.starting) await this.starting;
      else if (this._state === 'stopped') await this.start();
    }
    const client = this.client;
    if (!client || this._state !== 'running') {
      throw new Error(this._lastError ?? 'The tacit server is not running: run "tacit: Restart Server" or see "tacit: Show Server Log".');
    }
    const result = slimResult((await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] })) as T);
    if (MUTATING.has(command)) this.memoryEmitter.fire();
    return result;
  }

  dispose(): void {
    void this.stop();
    for (const d of this.disposables) d.dispose();
  }
}
