import { Entry, Scored } from '../../src/protocol';

export const entry = (over: Partial<Entry> = {}): Entry => ({
  id: 'e1',
  scope: 'repo:abc',
  layer: 'memory',
  text: 'Async code runs on tokio.',
  importance: 0.8,
  confidence: 0.8,
  accessCount: 0,
  createdAt: 1,
  updatedAt: 2,
  lastAccessedAt: 0,
  source: 'config',
  status: 'active',
  ...over,
});

/** A ranked entry, its score's parts as the server sends them. */
export const scoredEntry = (score: number, e: Entry): Scored => ({
  score,
  parts: { relevance: score, importance: e.importance, recency: 0.5, frequency: 0, confidence: e.confidence, fileBoost: 0 },
  entry: e,
});
