import { Entry } from '../../src/protocol';

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
  source: 'config',
  status: 'active',
  ...over,
});
