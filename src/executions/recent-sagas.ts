import { RecentMap } from '../common/recent-map.js';
import type { SagaRecord } from './saga.records.js';

/** Sagas with an outstanding attempt that this process wrote last, kept for the attempt's runner. */
const RECENT_MAX = 5_000;

/**
 * The sagas this process last wrote while they await an attempt: the runner
 * of that attempt takes its saga from here instead of reading it (see
 * `SagaRepository.findOutstanding`). Bounded; the least recently written go
 * first. Only processes that run step attempts keep any (an API-only process
 * would never read them).
 */
export class RecentSagas {
  /** Insertion order is recency: the first key is the least recently written. */
  private readonly recent = new RecentMap<string, SagaRecord>(RECENT_MAX);

  constructor(private readonly keeps: boolean) {}

  get(id: string): SagaRecord | undefined {
    return this.recent.get(id);
  }

  /** The saga as just written: kept while it awaits an attempt, forgotten otherwise. */
  remember(saga: SagaRecord): void {
    this.recent.delete(saga.id);
    if (!this.keeps || !saga.steps.some((step) => step.awaiting !== null)) return;
    this.recent.set(saga.id, saga);
  }

  /** A write whose guard did not match: the copy is out of date. */
  forget(id: string): void {
    this.recent.delete(id);
  }
}
