// Coalesces the server's `tacit/storeChanged` notifications into one refresh: an indexing
// run or an import writes many times a second, and the explorer should reload once, soon
// after the writes stop (and at least every `maxWaitMs` while they go on). Pure: unit-tested
// under Node.

import { changedLayers, Layer } from './protocol';

export class StoreChanges {
  private readonly pending = new Set<Layer>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private firstAt: number | undefined;

  /** `flush(layers)` gets the union of the layers of the notifications it coalesced. */
  constructor(
    private readonly delayMs: number,
    private readonly maxWaitMs: number,
    private readonly flush: (layers: Layer[]) => void,
  ) {}

  /** Takes the params of one `tacit/storeChanged` notification. */
  add(params: unknown): void {
    for (const layer of changedLayers(params)) this.pending.add(layer);
    const now = Date.now();
    this.firstAt ??= now;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.delayMs, this.firstAt + this.maxWaitMs - now));
    this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    this.firstAt = undefined;
    const layers = [...this.pending];
    this.pending.clear();
    if (layers.length) this.flush(layers);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
