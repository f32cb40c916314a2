import { Injectable } from '@nestjs/common';
import type { DefinitionSpec } from './definition.model.js';
import { planOf, type SagaPlan } from './saga-plan.js';
import { DefinitionsRepository } from './definitions.repository.js';

/** Most versions kept in memory; a version is immutable, so entries never go stale. */
const MAX_ENTRIES = 1_000;

/** Definition versions by name and version, read once per process. */
@Injectable()
export class DefinitionCache {
  private readonly entries = new Map<string, DefinitionSpec>();

  constructor(private readonly repository: DefinitionsRepository) {}

  /** The version compiled for execution (see SagaPlan). */
  async get(name: string, version: number): Promise<SagaPlan> {
    const key = `${name}@${version}`;
    const cached = this.entries.get(key);
    if (cached) return planOf(cached);
    const stored = await this.repository.findVersion(name, version);
    if (!stored) throw new Error(`definition ${key} is missing although a saga references it`);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, stored.entity.spec);
    return planOf(stored.entity.spec);
  }
}
