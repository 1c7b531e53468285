// The API `activate` returns to other extensions:
//   const tacit = vscode.extensions.getExtension('tacit.tacit')?.exports as TacitApi;
//   const ctx = await tacit.assembleContext({ query: 'error handling', uri: doc.uri.fsPath });

import * as vscode from 'vscode';
import { TacitClient } from './client';
import {
  Cmd,
  contextArgs,
  ContextInput,
  ContextResult,
  recallArgs,
  RecallInput,
  RecallResult,
  rememberArgs,
  RememberInput,
  RememberResult,
  StatusResult,
} from './protocol';

export interface TacitApi {
  /** Ranked entries per layer, pinned blocks and a markdown rendering within the budget. */
  assembleContext(input: ContextInput): Promise<ContextResult>;
  /** Search over every layer. */
  recall(input: RecallInput): Promise<RecallResult>;
  /** Stores a convention, decision or preference (merged or superseding when it matches one). */
  remember(input: RememberInput): Promise<RememberResult>;
  /** Counts, store, embedder, indexing state. */
  status(): Promise<StatusResult>;
  /** Resolves true once the server runs (false when it cannot start). */
  ready(): Promise<boolean>;
  /** Fires after writes, imports and indexing runs. */
  onDidChangeMemory: vscode.Event<void>;
}

export function createApi(client: TacitClient): TacitApi {
  return {
    // async: invalid input rejects the promise rather than throwing.
    assembleContext: async (input) => client.execute<ContextResult>(Cmd.assembleContext, contextArgs(input ?? {})),
    recall: async (input) => client.execute<RecallResult>(Cmd.recall, recallArgs(input ?? {})),
    remember: async (input) => client.execute<RememberResult>(Cmd.remember, rememberArgs(input ?? {})),
    status: async () => client.execute<StatusResult>(Cmd.status, {}),
    ready: async () => client.start(),
    onDidChangeMemory: client.onDidChangeMemory,
  };
}
