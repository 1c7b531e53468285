// Activation: starts the tacit language server and wires the features (commands, Memory
// Explorer, status bar, language-model tools). Returns the public API.

import * as vscode from 'vscode';
import { createApi, TacitApi } from './api';
import { TacitClient } from './client';
import { Commands } from './commands';
import { ContextDocuments } from './contextView';
import { MemoryExplorer } from './explorer';
import { InstructionFiles } from './instructionFiles';
import { StatusBar } from './statusBar';
import { registerTools, Tools } from './tools';

/** Internals reachable by the extension's own integration tests. */
export interface TacitTesting {
  client: TacitClient;
  commands: Commands;
  explorer: MemoryExplorer;
  statusBar: StatusBar;
  tools: Tools;
}

let client: TacitClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<TacitApi & { testing: TacitTesting }> {
  client = new TacitClient(context);
  const docs = new ContextDocuments();
  const explorer = new MemoryExplorer(client);
  const statusBar = new StatusBar(client);
  const instructions = new InstructionFiles(client);
  const commands = new Commands(client, explorer, docs, instructions);
  const { tools, disposables: toolDisposables } = registerTools(client);
  context.subscriptions.push(client, docs, explorer, statusBar, instructions, ...commands.register(), ...toolDisposables);

  // Start in the background: activation never waits on the server (or fails with it).
  void client.start();

  const api = createApi(client);
  return Object.assign(api, { testing: { client, commands, explorer, statusBar, tools } });
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
