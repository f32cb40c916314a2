import { plainToInstance } from 'class-transformer';
import { canonicalJson } from '../../src/common/canonical-json.js';
import type { StepSpec } from '../../src/definitions/definition.model.js';
import { CreateDefinitionDto } from '../../src/definitions/dto/create-definition.dto.js';
import { hashDefinition, normalizeDefinition } from '../../src/definitions/normalize-definition.js';

const dto = (plain: object) => plainToInstance(CreateDefinitionDto, plain);

describe(normalizeDefinition.name, () => {
  it('should make every default explicit', () => {
    const spec = normalizeDefinition(dto({ name: 'n', steps: [{ name: 'a', action: { type: 'http', url: 'http://x/a' } }] }));
    expect(spec).toEqual({
      description: null,
      timeoutMs: null,
      onStepFailure: 'compensate',
      steps: [
        {
          name: 'a',
          kind: 'compensatable',
          action: { type: 'http', method: 'POST', url: 'http://x/a', headers: {} },
          compensation: null,
          retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10000 },
          timeoutMs: 10000,
        },
      ],
    });
  });

  it('should lower-case header names and keep values', () => {
    const spec = normalizeDefinition(
      dto({ name: 'n', steps: [{ name: 'a', action: { type: 'http', url: 'http://x', headers: { 'X-Team': 'Shop' } } }] }),
    );
    expect((spec.steps[0] as StepSpec).action).toMatchObject({ headers: { 'x-team': 'Shop' } });
  });

  it('should keep queue actions to queue and task', () => {
    const spec = normalizeDefinition(
      dto({ name: 'n', steps: [{ name: 'a', action: { type: 'queue', queue: 'q', task: 't' }, compensation: { type: 'queue', queue: 'q', task: 'u' } }] }),
    );
    expect((spec.steps[0] as StepSpec).action).toEqual({ type: 'queue', queue: 'q', task: 't' });
    expect((spec.steps[0] as StepSpec).compensation).toEqual({ type: 'queue', queue: 'q', task: 'u' });
  });
});

describe(`${normalizeDefinition.name} of groups and kinds`, () => {
  const http = (url: string) => ({ type: 'http', url });

  it('should keep a group as branches of normalized steps', () => {
    const spec = normalizeDefinition(
      dto({ name: 'n', steps: [{ name: 'g', parallel: [[{ name: 'a', action: http('http://x/a') }], [{ name: 'b', action: http('http://x/b'), kind: 'compensatable' }]] }] }),
    );
    expect(spec.steps[0]).toEqual({
      name: 'g',
      parallel: [
        [expect.objectContaining({ name: 'a', kind: 'compensatable', action: { type: 'http', method: 'POST', url: 'http://x/a', headers: {} }, timeoutMs: 10000 })],
        [expect.objectContaining({ name: 'b', kind: 'compensatable' })],
      ],
    });
  });

  it('should give a retriable step unlimited attempts (0) unless it says otherwise, and keep the other defaults', () => {
    const spec = normalizeDefinition(
      dto({
        name: 'n',
        steps: [
          { name: 'p', kind: 'pivot', action: http('http://x/p') },
          { name: 'r', kind: 'retriable', action: http('http://x/r') },
          { name: 's', kind: 'retriable', action: http('http://x/s'), retry: { maxAttempts: 5, backoff: 'fixed' } },
        ],
      }),
    );
    expect(spec.steps.map((s) => (s as StepSpec).retry.maxAttempts)).toEqual([3, 0, 5]);
    expect((spec.steps[1] as StepSpec).retry).toEqual({ maxAttempts: 0, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10000 });
  });
});

describe(hashDefinition.name, () => {
  const base = { name: 'n', steps: [{ name: 'a', action: { type: 'http', url: 'http://x' } }] };

  it('should give equal hashes to documents that differ only in key order or explicit defaults', () => {
    const reordered = { steps: [{ action: { url: 'http://x', type: 'http', method: 'POST' }, retry: { maxAttempts: 3 }, name: 'a' }], name: 'n' };
    expect(hashDefinition(normalizeDefinition(dto(reordered)))).toBe(hashDefinition(normalizeDefinition(dto(base))));
  });

  it('should give different hashes when anything that matters changes', () => {
    const changed = { ...base, steps: [{ ...base.steps[0], timeoutMs: 11000 }] };
    expect(hashDefinition(normalizeDefinition(dto(changed)))).not.toBe(hashDefinition(normalizeDefinition(dto(base))));
  });
});

describe(canonicalJson.name, () => {
  it('should sort keys at every depth and keep array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });
});
