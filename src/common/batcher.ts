export interface BatcherOptions<T> {
  /** Most items in one batch. */
  maxBatch: number;
  /** Most batches running at once; items arriving meanwhile wait and form the next batch. */
  maxInFlight: number;
  /** Items with the same key never share a batch (e.g. two writes to one row); the later waits for the next one. */
  key?: (item: T) => string;
}

/**
 * Group commit for round trips: items submitted while earlier batches are
 * running are gathered and sent together, so under load N requests cost a
 * few round trips instead of N, and an idle system adds no delay (a batch
 * starts at once when a slot is free). `run` answers each item in order.
 *
 * When a batch of several items fails, each is run again on its own, so one
 * bad item fails alone. `run` must therefore be all-or-nothing per call (one
 * statement, one transaction).
 */
export class Batcher<T, R> {
  private queue: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private inFlight = 0;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly options: BatcherOptions<T>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The oldest items, at most maxBatch, with distinct keys. */
  private take(): typeof this.queue {
    const { key, maxBatch } = this.options;
    if (!key) return this.queue.splice(0, maxBatch);
    const seen = new Set<string>();
    const batch: typeof this.queue = [];
    const rest: typeof this.queue = [];
    for (const entry of this.queue) {
      const k = key(entry.item);
      if (batch.length < maxBatch && !seen.has(k)) {
        seen.add(k);
        batch.push(entry);
      } else {
        rest.push(entry);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async execute(batch: typeof this.queue): Promise<void> {
    try {
      const results = await this.run(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i]));
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // Find the item at fault, one at a time: every other one still succeeds.
      for (const b of batch) {
        try {
          b.resolve((await this.run([b.item]))[0]);
        } catch (e) {
          b.reject(e);
        }
      }
    }
  }
}
