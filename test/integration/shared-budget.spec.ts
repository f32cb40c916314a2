import { Redis } from 'ioredis';
import { BUDGET_SYNC_MS, SharedBudget } from '../../src/http/shared-budget-store.js';
import { BASE_REDIS_URL, createTestRedisPrefix } from '../support/test-redis.js';

type Answer = { current: number; ttl: number };

const count = (budget: SharedBudget, key: string, windowMs = 60_000) =>
  new Promise<Answer>((resolve, reject) => budget.incr(key, windowMs, (error, answer) => (error ? reject(error) : resolve(answer!))));
const countMany = async (budget: SharedBudget, key: string, n: number, windowMs = 60_000) => {
  const answers: Answer[] = [];
  for (let i = 0; i < n; i++) answers.push(await count(budget, key, windowMs));
  return answers.map((a) => a.current);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts the scripts `client` sends to Redis from now on (EVAL or EVALSHA: the budget's only commands). */
async function countScripts(client: Redis): Promise<() => number> {
  await client.ping();
  let scripts = 0;
  const sendCommand = client.sendCommand.bind(client);
  client.sendCommand = (...args) => {
    if (/^eval/i.test(args[0].name)) scripts++;
    return sendCommand(...args);
  };
  return () => scripts;
}

describe('SharedBudget (the rate limit shared through Redis, counted in the process between syncs)', () => {
  const prefix = createTestRedisPrefix();
  const redis = new Redis(BASE_REDIS_URL);
  const clients: Redis[] = [];
  const budgets: SharedBudget[] = [];
  const newBudget = () => {
    const client = new Redis(BASE_REDIS_URL);
    clients.push(client);
    const budget = new SharedBudget(client);
    budgets.push(budget);
    return { budget, client };
  };

  afterAll(async () => {
    budgets.forEach((b) => b.close());
    await Promise.all([...clients, redis].map((c) => (c.status === 'end' ? undefined : c.quit())));
    await prefix.cleanup();
  });

  it('counts the first request of a window in Redis and the rest in the process, then adds them at the next sync', async () => {
    const { budget, client } = newBudget();
    const key = `${prefix.prefix}:rate-limit:a`;
    const scripts = await countScripts(client);
    expect(await countMany(budget, key, 5)).toEqual([1, 2, 3, 4, 5]);
    // One round trip for the first request (EVALSHA, or EVAL the first time the script is seen), none for the others.
    expect(scripts()).toBeLessThanOrEqual(2);
    expect(await redis.get(key)).toBe('1');
    await sleep(BUDGET_SYNC_MS * 3);
    expect(await redis.get(key)).toBe('5');
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('shares one budget between instances: each sees what the others counted after a sync', async () => {
    const a = newBudget().budget;
    const b = newBudget().budget;
    const key = `${prefix.prefix}:rate-limit:shared`;
    expect(await countMany(a, key, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    await sleep(BUDGET_SYNC_MS * 3);
    // b's first request reads the shared counter; its later ones count on from there.
    expect(await countMany(b, key, 3)).toEqual([7, 8, 9]);
    await sleep(BUDGET_SYNC_MS * 3);
    // a's counter was last synced before b counted: a's next request reads the shared count again, at once.
    expect((await count(a, key)).current).toBe(10);
    expect(await redis.get(key)).toBe('10');
  });

  it('keeps a busy counter in the process: a burst costs one round trip and one pipelined add per sync', async () => {
    const { budget, client } = newBudget();
    const key = `${prefix.prefix}:rate-limit:busy`;
    const scripts = await countScripts(client);
    const started = Date.now();
    let n = 0;
    while (Date.now() - started < BUDGET_SYNC_MS * 5) {
      await count(budget, key);
      n++;
      if (n % 20 === 0) await sleep(5);
    }
    await sleep(BUDGET_SYNC_MS * 3);
    expect(await redis.get(key)).toBe(String(n));
    // The first request, then about one add per sync: far fewer than one per request.
    expect(scripts()).toBeLessThan(15);
    expect(n).toBeGreaterThan(100);
  });

  it('starts a new window once the old one ends, with its full budget', async () => {
    const { budget } = newBudget();
    const key = `${prefix.prefix}:rate-limit:window`;
    expect(await countMany(budget, key, 3, 300)).toEqual([1, 2, 3]);
    const answer = await count(budget, key, 300);
    expect(answer.current).toBe(4);
    expect(answer.ttl).toBeGreaterThan(0);
    expect(answer.ttl).toBeLessThanOrEqual(300);
    await sleep(450);
    expect(await countMany(budget, key, 2, 300)).toEqual([1, 2]);
  });

  it('answers with an error when Redis is away for a new counter (the limit is then skipped), and keeps counting known ones', async () => {
    const { budget, client } = newBudget();
    const key = `${prefix.prefix}:rate-limit:away`;
    expect(await countMany(budget, key, 2)).toEqual([1, 2]);
    client.disconnect();
    expect(await countMany(budget, key, 2)).toEqual([3, 4]);
    await expect(count(budget, `${prefix.prefix}:rate-limit:other`)).rejects.toThrow();
  });
});
