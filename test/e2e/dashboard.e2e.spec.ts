import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/app-config.js';
import { findDashboardBuild, setUpDashboard } from '../../src/http/dashboard.js';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TEST_ADMIN_KEY } from '../support/api-key.js';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi, type SagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/** Debian's Chromium (scripts/test.sh installs it); playwright-core drives it. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** With SCREENSHOTS_DIR set, the list and a detail page are saved there (docs/screenshots in the README). */
const SCREENSHOTS_DIR = process.env.SCREENSHOTS_DIR;

describe('Dashboard at /ui (browser)', () => {
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;
  let browser: Browser;
  let settled: SagaApi['settled'];
  let events: SagaApi['events'];
  /** Console errors and uncaught page errors of every page: there must be none. */
  const consoleErrors: string[] = [];
  const contexts: BrowserContext[] = [];
  const ids = { completed: [] as string[], compensated: [] as string[], paused: '' };
  const manual = { broken: true };

  function step(name: string, extra: Record<string, unknown> = {}) {
    return {
      name,
      action: { type: 'http', url: `${p.url}/${name}` },
      compensation: { type: 'http', url: `${p.url}/${name}/undo` },
      retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 50, maxDelayMs: 50 },
      timeoutMs: 10_000,
      ...extra,
    };
  }

  async function start(definition: string, correlationId: string): Promise<string> {
    const res = await api.post('/v1/sagas', { definition, input: { orderId: correlationId }, correlationId });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  /** A new browser context (its own sessionStorage) on the dashboard, signed in with `key`. */
  async function openDashboard(key: string, hash = ''): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
    await page.goto(`${t.baseUrl}/ui/${hash}`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('[data-testid="key-name"]').waitFor();
    return page;
  }

  beforeAll(async () => {
    t = await startTestApp();
    api = httpClient(t.baseUrl);
    ({ settled, events } = sagaApi(api));
    p = await new Participant().start();
    p.on('/ship', () => ({ status: 422, body: { error: 'address rejected' } }));
    // The card service fails each saga's first call (retryable), so the timeline has a retry and its backoff.
    const cardTried = new Set<string>();
    p.on('/charge-card', (call) => {
      const key = `${call.body.sagaId}:${call.body.run}`;
      if (cardTried.has(key)) return { status: 200, body: { charged: true } };
      cardTried.add(key);
      return { status: 503, body: { error: 'card service busy' } };
    });
    p.on('/review', () => (manual.broken ? { status: 422, body: { error: 'needs a human' } } : { status: 200, body: { approved: true } }));
    p.on('/pack-slowly', () => ({ status: 200, body: { packed: true }, delayMs: 6000 }));
    const register = sagaApi(api).register;
    await register('order-fulfilment', [step('reserve'), step('charge')]);
    // v2 adds a step: the definitions page shows the change.
    await register('order-fulfilment', [step('reserve'), step('charge'), { name: 'notify', action: { type: 'http', url: `${p.url}/notify` } }], {
      description: 'now with a notification',
    });
    await register('order-shipping', [step('reserve'), step('charge-card'), step('ship')]);
    await register('manual-review', [step('reserve'), step('review')], { onStepFailure: 'pause' });
    await register('slow-packing', [step('reserve'), step('pack-slowly', { retry: { maxAttempts: 1 } })]);
    for (let i = 1; i <= 3; i++) ids.completed.push(await start('order-fulfilment', `order-${i}`));
    for (let i = 4; i <= 5; i++) ids.compensated.push(await start('order-shipping', `order-${i}`));
    ids.paused = await start('manual-review', 'order-6');
    for (const id of ids.completed) expect((await settled(id)).status).toBe('COMPLETED');
    for (const id of ids.compensated) expect((await settled(id)).status).toBe('COMPENSATED');
    expect((await settled(ids.paused)).status).toBe('PAUSED');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await p.stop();
    await t.close();
  });

  afterEach(() => {
    expect(consoleErrors).toEqual([]);
  });

  it('should ask for a key once, show the counts per status, and filter the list to COMPENSATED', async () => {
    const page = await openDashboard(TEST_ADMIN_KEY);
    await expect(page.locator('[data-testid="key-name"]').textContent()).resolves.toBe('bootstrap');
    const counts = page.locator('[data-testid="counts"]');
    await waitFor('the counts', async () => ((await counts.locator('[data-status="COMPENSATED"] .count-n').textContent()) === '2' ? true : undefined));
    await expect(counts.locator('[data-status="COMPLETED"] .count-n').textContent()).resolves.toBe('3');
    await expect(counts.locator('[data-status="PAUSED"] .count-n').textContent()).resolves.toBe('1');
    await expect(page.locator('[data-testid="saga-row"]').count()).resolves.toBe(6);

    await page.getByLabel('Status').selectOption('COMPENSATED');
    await waitFor('the filtered list', async () => ((await page.locator('[data-testid="saga-row"]').count()) === 2 ? true : undefined));
    const rows = page.locator('[data-testid="saga-row"]');
    await expect(rows.locator('[data-testid="status"]').allTextContents()).resolves.toEqual(['COMPENSATED', 'COMPENSATED']);
    // Newest first.
    await expect(rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-saga-id')))).resolves.toEqual([...ids.compensated].reverse());
    expect(page.url()).toContain('status=COMPENSATED');

    // The key is kept for the session: a reload does not ask again.
    await page.reload();
    await page.locator('[data-testid="key-name"]').waitFor();
    await expect(page.getByLabel('API key').count()).resolves.toBe(0);
    if (SCREENSHOTS_DIR) {
      mkdirSync(SCREENSHOTS_DIR, { recursive: true });
      await page.goto(`${t.baseUrl}/ui/#/sagas`);
      await page.locator('[data-testid="saga-row"]').nth(5).waitFor();
      await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'dashboard-sagas.png') });
    }
  });

  it('should search by correlation id and by saga id', async () => {
    const page = await openDashboard(TEST_ADMIN_KEY);
    await page.getByLabel('Saga id or correlation id').fill('order-2');
    await page.getByRole('button', { name: 'Search' }).click();
    await waitFor('one row', async () => ((await page.locator('[data-testid="saga-row"]').count()) === 1 ? true : undefined));
    await expect(page.locator('[data-testid="saga-row"]').getAttribute('data-saga-id')).resolves.toBe(ids.completed[1]);

    await page.getByLabel('Saga id or correlation id').fill(ids.paused);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(`**/ui/#/sagas/${ids.paused}`);
    await page.locator('[data-testid="timeline"]').waitFor();
  });

  it('should draw the compensations of a COMPENSATED saga after its steps, in reverse order', async () => {
    const page = await openDashboard(TEST_ADMIN_KEY, '#/sagas?status=COMPENSATED');
    await page.locator('[data-testid="saga-row"]').first().click();
    await page.waitForURL(`**/ui/#/sagas/${ids.compensated[1]}`);
    const bars = page.locator('[data-testid="timeline-bar"][data-kind="attempt"]');
    await waitFor('the timeline', async () => ((await bars.count()) >= 6 ? true : undefined));
    const drawn = await bars.evaluateAll((els) =>
      els.map((el) => ({ label: `${el.getAttribute('data-phase')}:${el.getAttribute('data-step')}:${el.getAttribute('data-outcome')}`, left: el.getBoundingClientRect().left })),
    );
    // charge-card fails once and is retried; ship's 422 is permanent; then charge-card and reserve are undone, last first.
    expect(drawn.map((d) => d.label)).toEqual([
      'action:reserve:succeeded',
      'action:charge-card:failed',
      'action:charge-card:succeeded',
      'action:ship:failed',
      'compensation:charge-card:succeeded',
      'compensation:reserve:succeeded',
    ]);
    const lefts = drawn.map((d) => d.left);
    expect([...lefts].sort((a, b) => a - b)).toEqual(lefts);
    expect(lefts[5]).toBeGreaterThan(lefts[0]);
    // The backoff before the retry is drawn between the two attempts.
    await expect(page.locator('[data-testid="timeline-bar"][data-kind="wait"]').evaluateAll((els) => els.map((el) => `${el.getAttribute('data-step')}#${el.getAttribute('data-attempt')}`))).resolves.toEqual(['charge-card#2']);
    // The history and the step's error are there too.
    await expect(page.locator('[data-testid="event-row"]').count()).resolves.toBe((await events(ids.compensated[1])).length);
    await expect(page.locator('.summary .error-box').textContent()).resolves.toContain('STEP_FAILED');
    await page.getByText('Error', { exact: true }).first().click();
    await expect(page.locator('details[open] pre').first().textContent()).resolves.toContain('address rejected');
    if (SCREENSHOTS_DIR) await page.screenshot({ path: path.join(SCREENSHOTS_DIR, 'dashboard-saga.png'), fullPage: true });
  });

  it('should replay a PAUSED saga from its page and follow it to COMPLETED', async () => {
    const page = await openDashboard(TEST_ADMIN_KEY, `#/sagas/${ids.paused}`);
    const status = page.locator('.summary [data-testid="status"]');
    await expect(status.textContent()).resolves.toBe('PAUSED');
    await expect(page.getByRole('button', { name: 'Cancel saga' }).isEnabled()).resolves.toBe(true);
    manual.broken = false;
    await page.getByRole('button', { name: 'Replay' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/Reason/).fill('reviewer approved by hand');
    await dialog.getByRole('button', { name: 'Replay' }).click();
    await waitFor('COMPLETED on the page', async () => ((await status.textContent()) === 'COMPLETED' ? true : undefined));
    expect((await events(ids.paused)).find((e) => e.type === 'SagaReplayed')?.data).toMatchObject({ reason: 'reviewer approved by hand', by: 'bootstrap' });
    // Neither action applies to a COMPLETED saga.
    await expect(page.getByRole('button', { name: 'Replay' }).isDisabled()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Cancel saga' }).isDisabled()).resolves.toBe(true);
  });

  it('should start a new run of a COMPENSATED saga with new input, and switch between its runs', async () => {
    const id = ids.compensated[0];
    const page = await openDashboard(TEST_ADMIN_KEY, `#/sagas/${id}`);
    await page.locator('[data-testid="timeline"]').waitFor();
    await expect(page.getByLabel('Run').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Replay' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/New input/).fill('{ "orderId": "order-4", "address": "corrected" }');
    await dialog.getByRole('button', { name: 'Replay' }).click();
    await page.waitForURL(`**/ui/#/sagas/${id}?run=2`);
    await waitFor('run 2 settled', async () => ((await page.locator('.summary [data-testid="status"]').textContent()) === 'COMPENSATED' ? true : undefined), 20_000);
    expect((await api.get(`/v1/sagas/${id}`)).body).toMatchObject({ run: 2, input: { orderId: 'order-4', address: 'corrected' } });
    await expect(page.getByLabel('Run').locator('option').allTextContents()).resolves.toEqual(['Run 1', 'Run 2 (latest)']);
    const runsShown = () => page.locator('[data-testid="event-row"] td:nth-child(2)').allTextContents();
    await waitFor('run 2 history', async () => ((await runsShown()).every((r) => r === '2') ? true : undefined));
    await page.getByLabel('Run').selectOption('1');
    await page.waitForURL(`**/ui/#/sagas/${id}?run=1`);
    await waitFor('run 1 history', async () => ((await runsShown()).every((r) => r === '1') ? true : undefined));
    await expect(page.locator('[data-testid="timeline-bar"][data-kind="attempt"]').count()).resolves.toBe(6);
  });

  it('should cancel a RUNNING saga after a confirmation, with its reason, and show it unwind', async () => {
    const id = await start('slow-packing', 'order-7');
    const page = await openDashboard(TEST_ADMIN_KEY, `#/sagas/${id}`);
    const status = page.locator('.summary [data-testid="status"]');
    await expect(status.textContent()).resolves.toBe('RUNNING');
    await expect(page.getByRole('button', { name: 'Replay' }).isDisabled()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Cancel saga' }).click();
    const dialog = page.getByRole('dialog');
    // Backing out changes nothing.
    await dialog.getByRole('button', { name: 'Back' }).click();
    await expect(dialog.isVisible()).resolves.toBe(false);
    expect((await api.get(`/v1/sagas/${id}`)).body.status).toBe('RUNNING');

    await page.getByRole('button', { name: 'Cancel saga' }).click();
    await dialog.getByLabel(/Reason/).fill('customer withdrew');
    await dialog.getByRole('button', { name: 'Cancel saga' }).click();
    await waitFor('COMPENSATED on the page', async () => ((await status.textContent()) === 'COMPENSATED' ? true : undefined), 20_000);
    await expect(page.locator('.summary .error-box').textContent()).resolves.toContain('CANCELLED');
    expect((await events(id)).find((e) => e.type === 'SagaCancelled')?.data).toMatchObject({ reason: 'customer withdrew', by: 'bootstrap' });
    const comps = page.locator('[data-testid="timeline-bar"][data-phase="compensation"]');
    await expect(comps.evaluateAll((els) => els.map((el) => el.getAttribute('data-step')))).resolves.toEqual(['pack-slowly', 'reserve']);
  });

  it('should refresh the list by itself while a saga runs', async () => {
    const id = await start('slow-packing', 'order-8');
    const page = await openDashboard(TEST_ADMIN_KEY, '#/sagas');
    const row = page.locator(`[data-testid="saga-row"][data-saga-id="${id}"] [data-testid="status"]`);
    await expect(row.textContent()).resolves.toBe('RUNNING');
    await expect(page.locator('[data-testid="refresh-state"]').textContent()).resolves.toContain('refreshing every 2 s');
    await waitFor('COMPLETED in the list without a reload', async () => ((await row.textContent()) === 'COMPLETED' ? true : undefined), 20_000);
  });

  it('should hide Replay and Cancel from a key without those scopes', async () => {
    const reader = (await api.post('/v1/keys', { name: 'read-only-operator', scopes: ['sagas:read', 'definitions:read'] })).body;
    const page = await openDashboard(reader.key, `#/sagas/${ids.compensated[0]}`);
    await page.locator('[data-testid="timeline"]').waitFor();
    await expect(page.locator('[data-testid="key-name"]').textContent()).resolves.toBe('read-only-operator');
    await expect(page.getByRole('button', { name: 'Replay' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Cancel saga' }).count()).resolves.toBe(0);

    const replayer = (await api.post('/v1/keys', { name: 'replayer', scopes: ['sagas:read', 'sagas:replay'] })).body;
    const second = await openDashboard(replayer.key, `#/sagas/${ids.compensated[0]}`);
    await second.locator('[data-testid="timeline"]').waitFor();
    await expect(second.getByRole('button', { name: 'Replay' }).isEnabled()).resolves.toBe(true);
    await expect(second.getByRole('button', { name: 'Cancel saga' }).count()).resolves.toBe(0);
    // Nor does it read definitions: no such page, no link, and no call bound to fail (the console stays clean).
    await expect(second.getByRole('link', { name: 'Definitions' }).count()).resolves.toBe(0);
    await expect(second.locator('.summary').textContent()).resolves.toContain('order-shipping v1');
    await second.goto(`${t.baseUrl}/ui/#/sagas`);
    await second.locator('[data-testid="saga-row"]').first().waitFor();
  });

  it('should ask again for a key that is wrong or revoked', async () => {
    const key = (await api.post('/v1/keys', { name: 'short-lived', scopes: ['sagas:read'] })).body;
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${t.baseUrl}/ui/`);
    await page.getByLabel('API key').fill('sk_00000000_not-a-real-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'unknown, expired or revoked' }).waitFor();
    await page.getByLabel('API key').fill(key.key);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('[data-testid="saga-row"]').first().waitFor();
    await api.delete(`/v1/keys/${key.id}`);
    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'no longer works' }).waitFor();
    await expect(page.getByLabel('API key').isVisible()).resolves.toBe(true);
  });

  it('should list definitions and show a version with its effective policies and the diff between versions', async () => {
    const page = await openDashboard(TEST_ADMIN_KEY, '#/definitions');
    await waitFor('the definitions', async () => ((await page.locator('[data-testid="definition-row"]').count()) === 4 ? true : undefined));
    await page.getByRole('link', { name: 'order-fulfilment' }).click();
    const steps = page.locator('[data-testid="definition-steps"] tbody tr');
    await waitFor('v2 steps', async () => ((await steps.count()) === 3 ? true : undefined));
    // notify was registered with its URL only: the page shows the defaults that apply (SPEC §1).
    await expect(steps.nth(2).locator('td').allTextContents()).resolves.toEqual(['3', 'notify', `POST ${p.url}/notify`, 'none', '3', 'exponential, 100 ms → 10 s', '10 s']);
    const diff = page.locator('[data-testid="definition-diff"]');
    // Only the changes and their context: the unchanged first step is not shown.
    await expect(diff.textContent()).resolves.not.toContain('/reserve/undo');
    await expect(diff.locator('.diff-removed').allTextContents()).resolves.toEqual(['-   "description": null,\n']);
    await expect(diff.locator('.diff-added').allTextContents()).resolves.toEqual(expect.arrayContaining([expect.stringContaining('"name": "notify"')]));
    await expect(diff.locator('.diff-added').allTextContents()).resolves.toEqual(expect.arrayContaining([expect.stringContaining('now with a notification')]));
    await page.getByLabel('Version').selectOption('1');
    await waitFor('v1 steps', async () => ((await steps.count()) === 2 ? true : undefined));
    await page.getByRole('link', { name: 'Sagas of this definition →' }).click();
    await waitFor('its sagas', async () => ((await page.locator('[data-testid="saga-row"]').count()) === 3 ? true : undefined));
    await expect(page.getByLabel('Definition').inputValue()).resolves.toBe('order-fulfilment');
  });

  // Last: it adds sagas that the counts above do not expect.
  it('should page through the list, 25 at a time, newest first', async () => {
    const more: string[] = [];
    for (let i = 0; i < 22; i++) more.push(await start('order-fulfilment', `bulk-${i}`));
    for (const id of more) await settled(id);
    const all = (await api.get('/v1/sagas?limit=500')).body.items.map((s: { id: string }) => s.id);
    expect(all.length).toBeGreaterThan(25);
    const page = await openDashboard(TEST_ADMIN_KEY, '#/sagas');
    const rowIds = () => page.locator('[data-testid="saga-row"]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-saga-id')));
    await waitFor('page 1', async () => ((await rowIds()).length === 25 ? true : undefined));
    expect(await rowIds()).toEqual(all.slice(0, 25));
    await expect(page.getByRole('button', { name: '← Newer' }).isDisabled()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Older →' }).click();
    await waitFor('page 2', async () => ((await rowIds())[0] === all[25] ? true : undefined));
    expect(await rowIds()).toEqual(all.slice(25, 50));
    await expect(page.getByRole('button', { name: 'Older →' }).isDisabled()).resolves.toBe(all.length <= 50);
    await page.getByRole('button', { name: '← Newer' }).click();
    await waitFor('page 1 again', async () => ((await rowIds())[0] === all[0] ? true : undefined));
  });

  /** The timeline as drawn: its sections (top-level rows, or a group with its lanes) and the bars in each. */
  async function drawnSections(page: Page) {
    /** The DOM as this callback uses it (the tests compile without DOM types). */
    interface El {
      children: ArrayLike<El>;
      matches(selector: string): boolean;
      getAttribute(name: string): string | null;
      querySelector(selector: string): El | null;
      querySelectorAll(selector: string): ArrayLike<El>;
      getBoundingClientRect(): { left: number };
    }
    return page.locator('[data-testid="timeline"]').evaluate((node) => {
      const timeline = node as unknown as El;
      const label = (el: El) => `${el.getAttribute('data-phase')}:${el.getAttribute('data-step')}:${el.getAttribute('data-outcome')}`;
      const out: Array<{ group: string | null; phase?: string; lanes: Array<{ branch: string | null; bars: string[]; lefts: number[] }> }> = [];
      for (const child of Array.from(timeline.children)) {
        if (child.matches('[data-testid="timeline-group"]')) {
          out.push({
            group: child.getAttribute('data-group'),
            phase: child.getAttribute('data-phase') ?? undefined,
            lanes: Array.from(child.querySelectorAll('[data-testid="timeline-lane"]')).map((lane) => {
              const bars = Array.from(lane.querySelectorAll('[data-testid="timeline-bar"][data-kind="attempt"]'));
              return { branch: lane.getAttribute('data-branch'), bars: bars.map(label), lefts: bars.map((b) => b.getBoundingClientRect().left) };
            }),
          });
        } else {
          const bar = child.querySelector('[data-testid="timeline-bar"][data-kind="attempt"]');
          if (bar) out.push({ group: null, lanes: [{ branch: null, bars: [label(bar)], lefts: [bar.getBoundingClientRect().left] }] });
        }
      }
      return out;
    });
  }

  it('should draw a group as parallel lanes and its compensation unwinding branch by branch, for a COMPENSATED saga with a failed branch', async () => {
    const register = sagaApi(api).register;
    p.on('/lane-a1', () => ({ status: 200, body: { a1: true }, delayMs: 150 }));
    p.on('/lane-b1', () => ({ status: 422, body: { error: 'no courier' }, delayMs: 300 }));
    await register('lanes', [step('lane-before'), { name: 'prepare', parallel: [[step('lane-a1'), step('lane-a2')], [step('lane-b1')]] }, step('lane-after')]);
    const id = await start('lanes', 'order-lanes');
    expect((await settled(id)).status).toBe('COMPENSATED');
    const page = await openDashboard(TEST_ADMIN_KEY, `#/sagas/${id}`);
    await page.locator('[data-testid="timeline-lane"]').first().waitFor();
    const sections = await drawnSections(page);
    expect(sections.map((s) => ({ group: s.group, phase: s.phase, lanes: s.lanes.map((l) => [l.branch, l.bars]) }))).toEqual([
      { group: null, phase: undefined, lanes: [[null, ['action:lane-before:succeeded']]] },
      { group: 'prepare', phase: 'action', lanes: [['0', ['action:lane-a1:succeeded', 'action:lane-a2:succeeded']], ['1', ['action:lane-b1:failed']]] },
      { group: 'prepare', phase: 'compensation', lanes: [['0', ['compensation:lane-a2:succeeded', 'compensation:lane-a1:succeeded']]] },
      { group: null, phase: undefined, lanes: [[null, ['compensation:lane-before:succeeded']]] },
    ]);
    // The branches ran at once: both lanes start at the same place on the time axis.
    const [a, b] = sections[1].lanes;
    expect(Math.abs(a.lefts[0] - b.lefts[0])).toBeLessThan(3);
    // The steps table says where each step sits.
    await expect(page.locator('[data-testid="step-place"]').allTextContents()).resolves.toEqual(['prepare · branch 1', 'prepare · branch 1', 'prepare · branch 2']);
  });

  it('should replay a PAUSED saga whose branch failed, resuming the other branch, and draw both lanes to COMPLETED', async () => {
    const register = sagaApi(api).register;
    const desk = { closed: true };
    p.on('/lane-approve', () => (desk.closed ? { status: 422, body: { error: 'desk closed' } } : { status: 200, body: { approved: true } }));
    p.on('/lane-pack', () => ({ status: 200, body: { packed: true }, delayMs: 200 }));
    await register('lanes-paused', [{ name: 'checks', parallel: [[step('lane-approve', { retry: { maxAttempts: 1 } })], [step('lane-pack'), step('lane-label')]] }], { onStepFailure: 'pause' });
    const id = await start('lanes-paused', 'order-lanes-paused');
    const paused = await settled(id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.steps.map((s: { status: string }) => s.status)).toEqual(['FAILED', 'SUCCEEDED', 'PENDING']);
    const page = await openDashboard(TEST_ADMIN_KEY, `#/sagas/${id}`);
    const status = page.locator('.summary [data-testid="status"]');
    await expect(status.textContent()).resolves.toBe('PAUSED');
    desk.closed = false;
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Replay' }).click();
    await waitFor('COMPLETED on the page', async () => ((await status.textContent()) === 'COMPLETED' ? true : undefined));
    await waitFor('the label bar', async () => ((await page.locator('[data-testid="timeline-bar"][data-step="lane-label"]').count()) === 1 ? true : undefined));
    const lanes = (await drawnSections(page)).flatMap((s) => s.lanes.map((l) => [l.branch, l.bars]));
    expect(lanes).toEqual([
      ['0', ['action:lane-approve:failed', 'action:lane-approve:succeeded']],
      ['1', ['action:lane-pack:succeeded', 'action:lane-label:succeeded']],
    ]);
  });

  it('should show what waiting steps wait for, and let an operator with sagas:signal send a signal from a dialog with a JSON editor (SPEC §10)', async () => {
    const register = sagaApi(api).register;
    p.on('/desk-pay', () => ({ status: 202 }));
    await register('approvals', [
      step('desk-reserve'),
      { name: 'desk-pay', action: { type: 'http', url: `${p.url}/desk-pay`, completion: 'callback' }, timeoutMs: 600_000 },
      { name: 'manager-approval', action: { type: 'signal', signal: 'approve-refund' }, timeoutMs: 600_000 },
      step('desk-ship'),
    ]);
    const id = await start('approvals', 'order-approval');
    const token = await waitFor('the payment call', async () => p.callsTo('/desk-pay').find((c) => c.body.sagaId === id)?.body.callbackToken as string | undefined);

    // Without the scope: what it waits for, but no button.
    const viewer = (await api.post('/v1/keys', { name: 'viewer', scopes: ['sagas:read'] })).body;
    const view = await openDashboard(viewer.key, `#/sagas/${id}`);
    const waiting = view.locator('[data-testid="waiting-for"]');
    await waitFor('the callback wait on the page', async () => ((await waiting.count()) === 1 ? true : undefined));
    await expect(waiting.textContent()).resolves.toBe('waiting for its callback');
    expect((await httpClient(t.baseUrl, null).post(`/v1/callbacks/${token}`, { status: 'succeeded', output: { paid: true } })).status).toBe(202);
    await waitFor('the signal wait on the page', async () => ((await waiting.textContent()) === 'waiting for the signal approve-refund' ? true : undefined), 10_000);
    await expect(view.getByRole('button', { name: 'Send signal…' }).count()).resolves.toBe(0);

    // With it: the dialog checks the JSON before sending, then sends it.
    const approver = (await api.post('/v1/keys', { name: 'approver', scopes: ['sagas:read', 'sagas:signal'] })).body;
    const page = await openDashboard(approver.key, `#/sagas/${id}`);
    await page.getByRole('button', { name: 'Send signal…' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.locator('#dialog-title').textContent()).resolves.toBe('Send the signal “approve-refund”?');
    const editor = dialog.locator('textarea[name="signal-json"]');
    await editor.fill('{"approvedBy": "dana",');
    await dialog.getByRole('button', { name: 'Send signal' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'The output is not valid JSON' }).waitFor();
    expect((await api.get(`/v1/sagas/${id}`)).body.steps[2].status).toBe('RUNNING');
    await editor.fill('{"approvedBy": "dana", "limit": 250}');
    await dialog.getByRole('button', { name: 'Send signal' }).click();
    await page.getByRole('status').filter({ hasText: 'Signal “approve-refund” sent (succeeded).' }).waitFor();
    const saga = await settled(id);
    expect(saga.status).toBe('COMPLETED');
    expect(saga.steps[2]).toMatchObject({ status: 'SUCCEEDED', output: { approvedBy: 'dana', limit: 250 }, waitingFor: null });
    const history = await events(id);
    expect(history.find((e) => e.type === 'StepSucceeded' && e.step === 'manager-approval')).toBeDefined();
    const status = page.locator('.summary [data-testid="status"]');
    await waitFor('COMPLETED on the page', async () => ((await status.textContent()) === 'COMPLETED' ? true : undefined));
    await expect(page.locator('[data-testid="waiting-for"]').count()).resolves.toBe(0);
  });
});

describe('Dashboard files (HTTP)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('should redirect /ui to /ui/, serve the page uncached and the hashed assets for good, without a key', async () => {
    const anonymous = httpClient(t.baseUrl, null);
    const redirect = await fetch(`${t.baseUrl}/ui`, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([302, '/ui/']);
    const index = await anonymous.get('/ui/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(index.body)?.[1];
    expect(asset).toBeDefined();
    const script = await anonymous.get(asset!);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect((await anonymous.get('/ui/config.json')).body).toEqual({ authRequired: true });
    expect((await anonymous.get('/ui/assets/nothing-here.js')).status).toBe(404);
  });

  it('should tell the page when no key is needed', async () => {
    const open = await startTestApp({ AUTH_DISABLED: 'true' });
    try {
      expect((await httpClient(open.baseUrl, null).get('/ui/config.json')).body).toEqual({ authRequired: false });
    } finally {
      await open.close();
    }
  });

  it('should find only a built dashboard, and answer 503 problem+json saying what to run when there is none', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dashboard-'));
    try {
      // A source tree (index.html without assets/) is not a build.
      mkdirSync(path.join(dir, 'ui'), { recursive: true });
      writeFileSync(path.join(dir, 'ui/index.html'), '<!doctype html>');
      const here = path.join(dir, 'src/http');
      expect(findDashboardBuild(here)).toBeNull();
      mkdirSync(path.join(dir, 'dist/ui/assets'), { recursive: true });
      writeFileSync(path.join(dir, 'dist/ui/index.html'), '<!doctype html>');
      expect(findDashboardBuild(here)).toBe(path.join(dir, 'dist/ui'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    @Module({})
    class EmptyModule {}
    const app = await NestFactory.create<NestFastifyApplication>(EmptyModule, new FastifyAdapter(), { logger: false });
    try {
      await setUpDashboard(app, loadConfig({ DATABASE_URL: 'postgres://unused@127.0.0.1/unused', REDIS_URL: 'redis://127.0.0.1:6379' }), null);
      await app.listen(0, '127.0.0.1');
      const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      const res = await httpClient(base, null).get('/ui/');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.detail).toContain('npm run build');
    } finally {
      await app.close();
    }
  });
});
