/**
 * A Map that keeps only the `max` most recently set keys: setting a key
 * moves it to the end (insertion order is recency) and drops the oldest
 * beyond `max`.
 */
export class RecentMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.max) super.delete(this.keys().next().value!);
    return this;
  }
}
