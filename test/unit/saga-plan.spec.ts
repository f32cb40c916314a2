import { planOf, visibleResults } from '../../src/definitions/saga-plan.js';
import { def, group, step } from '../support/engine-sim.js';

describe(planOf.name, () => {
  const plan = planOf(def([step('before'), group('g', [step('a1'), step('a2')], [step('b1')]), step('p', { kind: 'pivot' }), step('r', { kind: 'retriable' })]));

  it('should list every step flat, a group branch by branch, each placed by stage, group and branch with its field path', () => {
    expect(plan.steps.map((s) => [s.name, s.index, s.stage, s.group, s.branch])).toEqual([
      ['before', 0, 0, null, null],
      ['a1', 1, 1, 'g', 0],
      ['a2', 2, 1, 'g', 0],
      ['b1', 3, 1, 'g', 1],
      ['p', 4, 2, null, null],
      ['r', 5, 3, null, null],
    ]);
    expect(plan.steps[2].path).toEqual(['steps', 1, 'parallel', 0, 1]);
    expect(plan.stages.map((s) => [s.name, s.group, s.branches])).toEqual([
      ['before', false, [[0]]],
      ['g', true, [[1, 2], [3]]],
      ['p', false, [[4]]],
      ['r', false, [[5]]],
    ]);
  });

  it('should take the pivot as the point of no return, or without one the first retriable step', () => {
    expect(plan.pivot).toBe(4);
    expect(planOf(def([step('a'), step('r1', { kind: 'retriable' }), step('r2', { kind: 'retriable' })])).pivot).toBe(1);
    expect(planOf(def([step('a')])).pivot).toBeNull();
  });

  it('should compile a definition once (a cached version is one object)', () => {
    const spec = def([step('a')]);
    expect(planOf(spec)).toBe(planOf(spec));
  });
});

describe(visibleResults.name, () => {
  const plan = planOf(def([step('before'), group('g', [step('a1'), step('a2')], [step('b1')]), step('after')]));
  const all = { before: 1, a1: 2, a2: 3, b1: 4, after: 5 };

  it('should give a branch step the outputs before its group and of the earlier steps of its own branch only', () => {
    expect(visibleResults(plan, 1, all)).toEqual({ before: 1 });
    expect(visibleResults(plan, 2, all)).toEqual({ before: 1, a1: 2 });
    expect(visibleResults(plan, 3, all)).toEqual({ before: 1 });
  });

  it('should give a step after the group every output before it, every branch included', () => {
    expect(visibleResults(plan, 4, all)).toEqual({ before: 1, a1: 2, a2: 3, b1: 4 });
  });

  it('should leave out outputs that do not exist yet, and keep a null output', () => {
    expect(visibleResults(plan, 4, { before: null })).toEqual({ before: null });
  });
});
