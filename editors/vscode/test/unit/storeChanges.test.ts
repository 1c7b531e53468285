import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { changedLayers, Layer, LAYERS } from '../../src/protocol';
import { StoreChanges } from '../../src/storeChanges';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('tacit/storeChanged', () => {
  it('names the layers that changed; unknown or missing layers mean every layer', () => {
    assert.deepEqual(changedLayers({ layers: ['memory', 'episode'] }), ['memory', 'episode']);
    assert.deepEqual(changedLayers({ layers: ['pinned', 'pinned', 'bogus'] }), ['pinned']);
    assert.deepEqual(changedLayers({}), [...LAYERS]);
    assert.deepEqual(changedLayers(null), [...LAYERS]);
  });

  it('a burst of notifications is one refresh, with the union of their layers', async () => {
    const flushed: Layer[][] = [];
    const changes = new StoreChanges(30, 1000, (layers) => flushed.push(layers.sort()));
    changes.add({ layers: ['memory'] });
    changes.add({ layers: ['episode'] });
    changes.add({ layers: ['memory', 'pinned'] });
    assert.equal(flushed.length, 0, 'not before the writes stop');
    await sleep(80);
    assert.deepEqual(flushed, [['episode', 'memory', 'pinned']]);
    changes.add({ layers: ['procedure'] });
    await sleep(80);
    assert.deepEqual(flushed[1], ['procedure'], 'a later change is a refresh of its own');
    changes.dispose();
  });

  it('a steady stream still refreshes every maxWait', async () => {
    let flushes = 0;
    const changes = new StoreChanges(40, 100, () => flushes++);
    const started = Date.now();
    while (Date.now() - started < 260) {
      changes.add({ layers: ['memory'] });
      await sleep(10);
    }
    assert.ok(flushes >= 2, `${flushes} refreshes during 260 ms of writes`);
    changes.dispose();
  });

  it('dispose drops what is pending', async () => {
    let flushes = 0;
    const changes = new StoreChanges(20, 100, () => flushes++);
    changes.add({ layers: ['memory'] });
    changes.dispose();
    await sleep(50);
    assert.equal(flushes, 0);
  });
});
