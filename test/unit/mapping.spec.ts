import { planOf, readableSteps } from '../../src/definitions/saga-plan.js';
import { bodyStrings, lookUp, MappingFailed, MappingSyntaxError, parseTemplate, referencedSteps, renderBody, renderText, type MappingContext } from '../../src/engine/mapping.js';
import { def, group, step } from '../support/engine-sim.js';

const STEPS = ['reserve-inventory', 'charge', 'charge.v2', 'ship'];
const ctx: MappingContext = {
  input: { orderId: 42, customer: { name: 'Ada Lovelace', tags: ['vip', 'eu'] }, note: null, flag: false, 'odd key': 1 },
  results: { 'reserve-inventory': { items: [{ sku: 'A/1 b', qty: 2 }] }, charge: { id: 'ch_1' }, 'charge.v2': { id: 'ch_2' }, ship: null },
  saga: { id: '0b6f2d4e-9f7a-4c55-8c1e-3f2a7d9e1b20', run: 2, correlationId: null },
};

describe(parseTemplate.name, () => {
  it('should split text and references, with paths of keys and indices', () => {
    expect(parseTemplate('/orders/${input.orderId}/items/${results.reserve-inventory.items[0].sku}?run=${saga.run}', STEPS)).toEqual([
      '/orders/',
      { source: 'input', path: ['orderId'] },
      '/items/',
      { source: 'results', step: 'reserve-inventory', path: ['items', 0, 'sku'] },
      '?run=',
      { source: 'saga', field: 'run' },
    ]);
    expect(parseTemplate('${input}', STEPS)).toEqual([{ source: 'input', path: [] }]);
    expect(parseTemplate('${input[1][0]}', STEPS)).toEqual([{ source: 'input', path: [1, 0] }]);
    expect(parseTemplate('no placeholders', STEPS)).toEqual(['no placeholders']);
  });

  it('should take the longest step name a reference starts with (step names may hold dots)', () => {
    expect(parseTemplate('${results.charge.v2.id}', STEPS)).toEqual([{ source: 'results', step: 'charge.v2', path: ['id'] }]);
    expect(parseTemplate('${results.charge.id}', STEPS)).toEqual([{ source: 'results', step: 'charge', path: ['id'] }]);
    expect(referencedSteps(parseTemplate('${results.charge}-${results.ship}-${input.x}', STEPS))).toEqual(['charge', 'ship']);
  });

  it('should leave secret references as text, for the headers to fill at the call', () => {
    expect(parseTemplate('Bearer ${secret:PAY_TOKEN} for ${saga.id}', STEPS)).toEqual(['Bearer ${secret:PAY_TOKEN} for ', { source: 'saga', field: 'id' }]);
  });

  it.each([
    ['${input', 'no closing'],
    ['${}', 'starts with'],
    ['${env.HOME}', 'starts with'],
    ['${saga.secret}', 'saga field'],
    ['${results.unknown.x}', 'no step'],
    ['${results.charges}', 'no step'],
    ['${input..a}', 'empty key'],
    ['${input.a.}', 'empty key'],
    ['${input[-1]}', 'whole number'],
    ['${input[01]}', 'whole number'],
    ['${input[99999999999]}', 'whole number'],
    ['${input[x]}', 'whole number'],
    ['${input.a b}', 'not a valid key'],
    ['${inputx}', 'starts with'],
    ['${constructor.prototype}', 'starts with'],
    ['${secret:lower}', 'starts with'],
  ])('should refuse %s', (text, reason) => {
    expect(() => parseTemplate(text, STEPS)).toThrow(MappingSyntaxError);
    expect(() => parseTemplate(text, STEPS)).toThrow(reason);
  });
});

describe(renderText.name, () => {
  it('should put values in as text, JSON for anything but a string, and encode only what it substitutes', () => {
    const url = parseTemplate('http://x/orders/${input.orderId}/sku/${results.reserve-inventory.items[0].sku}?who=${input.customer.name}', STEPS);
    expect(renderText(url, ctx, encodeURIComponent)).toBe('http://x/orders/42/sku/A%2F1%20b?who=Ada%20Lovelace');
    expect(renderText(parseTemplate('${input.customer.tags} ${input.note} ${input.flag} ${saga.correlationId}', STEPS), ctx)).toBe('["vip","eu"] null false null');
  });

  it('should fail with MAPPING_FAILED when a value is missing, naming the placeholder and why', () => {
    expect(() => renderText(parseTemplate('${input.customer.email}', STEPS), ctx)).toThrow(new MappingFailed('${input.customer.email}: input.customer has no "email"'));
    expect(() => renderText(parseTemplate('${input.customer.tags[2]}', STEPS), ctx)).toThrow('input.customer.tags has no [2]');
    expect(() => renderText(parseTemplate('${input.orderId.x}', STEPS), ctx)).toThrow('input.orderId has no "x"');
    expect(() => renderText(parseTemplate('${results.ship.id}', STEPS), ctx)).toThrow('results.ship has no "id"');
    expect(() => renderText(parseTemplate('${results.charge.v2.id}', STEPS), { ...ctx, results: {} })).toThrow('step "charge.v2" has no output in this run');
  });

  it('should not read inherited properties (constructor, __proto__) as values', () => {
    expect(lookUp({ source: 'input', path: ['constructor'] }, ctx)).toEqual({ found: false, reason: 'input has no "constructor"' });
    expect(lookUp({ source: 'input', path: ['customer', 'tags', 'length'] }, ctx)).toMatchObject({ found: false });
  });
});

describe(renderBody.name, () => {
  it('should keep the JSON type of a string that is exactly one placeholder, and render text inside longer strings', () => {
    const body = {
      order: '${input.orderId}',
      items: '${results.reserve-inventory.items}',
      label: 'order ${input.orderId} for ${input.customer.name}',
      nested: [{ flag: '${input.flag}', nothing: '${input.note}' }, 7, null, true],
      constructor: '${saga.run}',
    };
    const rendered = renderBody(body, ctx, STEPS) as Record<string, unknown>;
    expect(rendered).toEqual({
      order: 42,
      items: [{ sku: 'A/1 b', qty: 2 }],
      label: 'order 42 for Ada Lovelace',
      nested: [{ flag: false, nothing: null }, 7, null, true],
      constructor: 2,
    });
    expect(Object.getPrototypeOf(rendered)).toBe(Object.prototype);
    // The definition's body is not changed.
    expect(body.order).toBe('${input.orderId}');
  });

  it('should list every string of a body with where it is', () => {
    expect(bodyStrings({ a: ['x', { b: 'y' }], c: 1 })).toEqual([
      { at: ['a', 0], text: 'x' },
      { at: ['a', 1, 'b'], text: 'y' },
    ]);
  });
});

describe(readableSteps.name, () => {
  const plan = planOf(def([step('before'), group('g', [step('a1'), step('a2')], [step('b1')]), step('after')]));

  it('should let a step read only the steps that always finish before it', () => {
    expect([...readableSteps(plan, 0, 'action')]).toEqual([]);
    expect([...readableSteps(plan, 2, 'action')]).toEqual(['before', 'a1']);
    expect([...readableSteps(plan, 3, 'action')]).toEqual(['before']);
    expect([...readableSteps(plan, 4, 'action')]).toEqual(['before', 'a1', 'a2', 'b1']);
  });

  it('should let a compensation read its own step too', () => {
    expect([...readableSteps(plan, 3, 'compensation')]).toEqual(['before', 'b1']);
  });
});
