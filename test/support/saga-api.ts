import { isSettled } from '../../src/engine/statuses.js';
import type { HttpClient } from './http-client.js';
import { waitFor } from './wait-for.js';

export interface HistoryEvent {
  seq: number;
  run: number;
  type: string;
  step: string | null;
  phase: string | null;
  attempt: number | null;
  data: any;
}

/** The calls e2e tests make over and over: register a definition, wait for a saga to settle, read its history. */
export function sagaApi(api: HttpClient) {
  return {
    async register(name: string, steps: unknown[], extra: Record<string, unknown> = {}) {
      const res = await api.post('/v1/definitions', { name, steps, ...extra });
      expect([200, 201]).toContain(res.status);
      return res.body;
    },
    /** The saga once it is terminal, PAUSED or FAILED (read by polling, so the test does not rely on waitMs). */
    settled(id: string) {
      return waitFor(`saga ${id} to settle`, async () => {
        const res = await api.get(`/v1/sagas/${id}`);
        return isSettled(res.body.status) ? res.body : undefined;
      });
    },
    async events(id: string): Promise<HistoryEvent[]> {
      return (await api.get(`/v1/sagas/${id}/events`)).body.items;
    },
  };
}

export type SagaApi = ReturnType<typeof sagaApi>;
