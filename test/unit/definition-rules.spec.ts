import { definitionRuleErrors } from '../../src/definitions/dto/definition-rules.js';

const http = (url: string, extra: Record<string, unknown> = {}) => ({ type: 'http', url, ...extra });
const paths = (body: unknown) => definitionRuleErrors(body).map((e) => e.path).sort();
const messages = (body: unknown) => definitionRuleErrors(body).map((e) => `${e.path}: ${e.message}`);

/** The registration rules of SPEC §10 and §11 on raw definitions. */
describe(definitionRuleErrors.name, () => {
  describe('data mapping (SPEC §11)', () => {
    it('should accept references to earlier steps, earlier steps of the own branch, and a compensation to its own step', () => {
      expect(
        paths({
          steps: [
            { name: 'a.b', action: http('http://p/${input.id}') },
            {
              name: 'g',
              parallel: [
                [{ name: 'x', action: http('http://p/${results.a.b.id}') }, { name: 'y', action: http('http://p', { body: { v: '${results.x.items[0]}' } }) }],
                [{ name: 'z', action: http('http://p', { headers: { 'x-run': '${saga.run}' } }) }],
              ],
            },
            { name: 'after', action: http('http://p/${results.y}/${results.z.k}'), compensation: http('http://p/undo/${results.after.id}') },
          ],
        }),
      ).toEqual([]);
    });

    it('should name every field that refers to a later step, a sibling branch, the step itself or an unknown one', () => {
      expect(
        paths({
          steps: [
            { name: 'a', action: http('http://p/${results.a.id}'), compensation: http('http://p/${results.b.id}') },
            { name: 'g', parallel: [[{ name: 'b', action: http('http://p', { body: ['${results.c}'] }) }], [{ name: 'c', action: http('http://p', { headers: { h: '${results.nobody.x}' } }) }]] },
          ],
        }),
      ).toEqual(['steps[0].action.url', 'steps[0].compensation.url', 'steps[1].parallel[0][0].action.body[0]', 'steps[1].parallel[1][0].action.headers.h']);
    });

    it('should refuse malformed placeholders and secrets outside headers, with the reason', () => {
      const found = messages({
        steps: [
          { name: 'a', action: http('http://p/${input', { body: { s: 'Bearer ${secret:TOKEN}', i: '${input.list[-1]}', f: '${saga.name}' } }) },
        ],
      });
      expect(found).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^steps\[0\]\.action\.url: has a malformed placeholder: .*no closing/),
          expect.stringMatching(/^steps\[0\]\.action\.body\.s: may not refer to a secret/),
          expect.stringMatching(/^steps\[0\]\.action\.body\.i: has a malformed placeholder: .*\[n\]/),
          expect.stringMatching(/^steps\[0\]\.action\.body\.f: has a malformed placeholder: .*id, run, correlationId/),
        ]),
      );
    });

    it('should refuse a body on a queue action and a body that cannot be stored', () => {
      expect(paths({ steps: [{ name: 'a', action: { type: 'queue', queue: 'q', task: 't', body: {} } }] })).toEqual(['steps[0].action.body']);
      expect(paths({ steps: [{ name: 'a', action: http('http://p', { body: { big: 'x'.repeat(70_000) } }) }] })).toEqual(['steps[0].action.body']);
      expect(paths({ steps: [{ name: 'a', action: http('http://p', { body: { n: 'a\u0000b' } }) }] })).toEqual(['steps[0].action.body.n']);
    });

    it('should treat keys named like Object.prototype members as plain keys', () => {
      expect(paths({ steps: [{ name: 'a', action: http('http://p', { body: { constructor: '${input.constructor}', toString: 1 } }) }] })).toEqual([]);
    });
  });

  describe('callback and signal steps (SPEC §10)', () => {
    it('should refuse a signal as a compensation and one signal name for two steps', () => {
      expect(
        paths({
          steps: [
            { name: 'a', action: { type: 'signal', signal: 'go' }, compensation: { type: 'signal', signal: 'undo' } },
            { name: 'b', action: { type: 'signal', signal: 'go' } },
          ],
        }),
      ).toEqual(['steps[0].compensation.type', 'steps[1].action.signal']);
    });

    it('should allow timeouts over a day only for steps that wait for a callback or a signal', () => {
      const long = 7 * 86_400_000;
      expect(
        paths({
          steps: [
            { name: 'a', action: { type: 'signal', signal: 'go' }, timeoutMs: long },
            { name: 'b', action: http('http://p', { completion: 'callback' }), timeoutMs: long },
            { name: 'c', action: http('http://p'), timeoutMs: long },
          ],
        }),
      ).toEqual(['steps[2].timeoutMs']);
    });
  });
});
