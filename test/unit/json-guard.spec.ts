import { jsonTextProblem, jsonValueProblem, MAX_JSON_DEPTH, storableText } from '../../src/common/json-guard.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('jsonTextProblem', () => {
  it.each([
    ['{"a":1,"b":[true,null,"x"],"c":{"d":-0.5e-3}}'],
    ['{"constructor":"x","toString":"y","prototype":{}}'],
    ['"\\ud83d\\ude00 \u00e9 \\\\u0000 \\" \\n"'],
    ['[0.1, 1.50, 100e-2, 9007199254740992e0, 1e21, 123456789012345]'],
    [nested(MAX_JSON_DEPTH)],
  ])('should accept %s', (text) => {
    JSON.parse(text);
    expect(jsonTextProblem(text)).toBeNull();
  });

  it.each([
    ['{"a":{"b":["x","y\\u0000"]}}', ['a', 'b', 1], /U\+0000/],
    ['{"a":"\\ud800"}', ['a'], /unpaired UTF-16 surrogate/],
    ['{"a":"\\udc00\\ud800"}', ['a'], /unpaired/],
    ['{"a":["\\ud800x"]}', ['a', 0], /unpaired/],
    ['{"a":{"k\\u0000":1}}', ['a'], /key that holds U\+0000/],
    ['{"x":{"__proto__":{"polluted":true}}}', ['x'], /__proto__/],
    ['{"x":{"__pr\\u006fto__":1}}', ['x'], /__proto__/],
    ['{"a":[1,1e400]}', ['a', 1], /1e400, beyond the largest number/],
    ['{"a":-1e309}', ['a'], /beyond/],
    ['{"a":12345678901234567890}', ['a'], /cannot be stored exactly \(it would become 12345678901234567000\)/],
    ['{"a":1e-400}', ['a'], /cannot be stored exactly/],
    ['{"a":0.30000000000000000001}', ['a'], /cannot be stored exactly/],
    [`{"deep":${nested(MAX_JSON_DEPTH)}}`, ['deep'], /nested deeper than 1000 levels/],
  ])('should refuse %s at its path', (text, segments, message) => {
    JSON.parse(text);
    const problem = jsonTextProblem(text);
    expect(problem?.segments).toEqual(segments);
    expect(problem?.message).toMatch(message);
  });

  it('should refuse 10,000 levels of nesting without recursing', () => {
    expect(jsonTextProblem(nested(10_000))?.message).toMatch(/nested deeper/);
  });
});

describe('jsonValueProblem', () => {
  it('should accept plain JSON values, constructor keys included', () => {
    expect(jsonValueProblem({ constructor: 'x', list: [1, 'two', null, false, { toString: 'y' }] })).toBeNull();
  });

  it.each([
    [{ a: ['x\0'] }, ['a', 0], /U\+0000/],
    [{ a: { b: '\ud800' } }, ['a', 'b'], /unpaired/],
    [{ ['k\udfff']: 1 }, [], /key that holds an unpaired/],
    [JSON.parse('{"__proto__":1}'), [], /__proto__/],
    [{ n: Infinity }, ['n'], /not a finite number/],
    [{ a: JSON.parse(nested(MAX_JSON_DEPTH)) }, ['a'], /nested deeper/],
  ])('should refuse %#', (value, segments, message) => {
    const problem = jsonValueProblem(value);
    expect(problem?.segments).toEqual(segments);
    expect(problem?.message).toMatch(message);
  });
});

describe('storableText', () => {
  it('should leave clean text alone and spell out what cannot be stored', () => {
    expect(storableText('fine \ud83d\ude00')).toEqual({ text: 'fine \ud83d\ude00', escaped: false });
    expect(storableText('a\0b\ud800c\udc00')).toEqual({ text: 'a\\u0000b\\ud800c\\udc00', escaped: true });
  });
});
