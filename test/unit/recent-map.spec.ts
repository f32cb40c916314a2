import { RecentMap } from '../../src/common/recent-map.js';

describe('RecentMap', () => {
  it('should keep the most recently set keys, dropping the oldest beyond its size', () => {
    const map = new RecentMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect([...map]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
    map.delete('a');
    expect([...map.keys()]).toEqual(['c']);
  });
});
