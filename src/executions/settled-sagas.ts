import { Injectable } from '@nestjs/common';

/**
 * In-process news of sagas this process has just settled (moved to
 * COMPLETED, COMPENSATED, PAUSED or FAILED, committed). The requests waiting
 * on them here (`waitMs`) are woken at once, without waiting for Postgres's
 * notification, which still wakes those on other instances.
 */
@Injectable()
export class SettledSagas {
  private readonly listeners: Array<(sagaId: string) => void> = [];

  onSettled(listener: (sagaId: string) => void): void {
    this.listeners.push(listener);
  }

  settled(sagaId: string): void {
    for (const listener of this.listeners) listener(sagaId);
  }
}
