import { Batcher } from '../../src/common/batcher.js';

/** A run function that records its batches and answers when the test releases it. */
function controlledRun() {
  const batches: number[][] = [];
  const pending: Array<() => void> = [];
  const run = (items: number[]) => {
    batches.push(items);
    return new Promise<string[]>((resolve) => pending.push(() => resolve(items.map((i) => `r${i}`))));
  };
  const releaseAll = async () => {
    while (pending.length) pending.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { run, batches, releaseAll };
}

describe(Batcher.name, () => {
  it('should send an item at once when a slot is free, without waiting for company', async () => {
    const c = controlledRun();
    const batcher = new Batcher(c.run, { maxBatch: 10, maxInFlight: 1 });
    const result = batcher.submit(1);
    expect(c.batches).toEqual([[1]]);
    await c.releaseAll();
    await expect(result).resolves.toBe('r1');
  });

  it('should gather items that arrive while a batch runs into the next batch, answering each its own result', async () => {
    const c = controlledRun();
    const batcher = new Batcher(c.run, { maxBatch: 10, maxInFlight: 1 });
    const results = [1, 2, 3, 4].map((i) => batcher.submit(i));
    expect(c.batches).toEqual([[1]]);
    await c.releaseAll();
    expect(c.batches).toEqual([[1], [2, 3, 4]]);
    await c.releaseAll();
    await expect(Promise.all(results)).resolves.toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it.each([
    [1, 3, [[1], [2, 3, 4], [5, 6, 7], [8]]],
    [2, 3, [[1], [2], [3, 4, 5], [6, 7, 8]]],
  ])('should run at most maxInFlight=%i batches of at most maxBatch=%i items', async (maxInFlight, maxBatch, expected) => {
    const c = controlledRun();
    const batcher = new Batcher(c.run, { maxBatch, maxInFlight });
    const results = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => batcher.submit(i));
    while (c.batches.length < expected.length) await c.releaseAll();
    await c.releaseAll();
    expect(c.batches).toEqual(expected);
    await expect(Promise.all(results)).resolves.toHaveLength(8);
  });

  it('should never put two items with the same key in one batch, keeping their order', async () => {
    const c = controlledRun();
    const batcher = new Batcher(c.run, { maxBatch: 10, maxInFlight: 1, key: (i) => String(i % 10) });
    const results = [1, 2, 11, 3, 21, 12].map((i) => batcher.submit(i));
    while (c.batches.flat().length < 6) await c.releaseAll();
    expect(c.batches).toEqual([[1], [2, 11, 3], [21, 12]]);
    await c.releaseAll();
    await expect(Promise.all(results)).resolves.toEqual(['r1', 'r2', 'r11', 'r3', 'r21', 'r12']);
  });

  it('should fail only the item at fault when a batch fails, running the others again alone', async () => {
    const calls: number[][] = [];
    const run = async (items: number[]) => {
      calls.push(items);
      if (items.includes(3)) throw new Error('item 3 is bad');
      return items.map((i) => i * 10);
    };
    const batcher = new Batcher(run, { maxBatch: 10, maxInFlight: 1 });
    const first = batcher.submit(1);
    const rest = [2, 3, 4].map((i) => batcher.submit(i).then((v) => ({ v }), (e: Error) => ({ e: e.message })));
    await expect(first).resolves.toBe(10);
    await expect(Promise.all(rest)).resolves.toEqual([{ v: 20 }, { e: 'item 3 is bad' }, { v: 40 }]);
    expect(calls).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });

  it('should reject a lone failing item with its own error', async () => {
    const batcher = new Batcher<number, number>(async () => Promise.reject(new Error('down')), { maxBatch: 10, maxInFlight: 1 });
    await expect(batcher.submit(1)).rejects.toThrow('down');
  });
});
