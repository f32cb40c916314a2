import { Injectable } from '@nestjs/common';
import { planOf, type SagaPlan } from './saga-plan.js';
import { DefinitionsRepository } from './definitions.repository.js';

/** Most versions kept in memory; a version is immutable, so entries never go stale. */
const MAX_ENTRIES = 1_000;

/** Definition versions by name and version, read and compiled once per process. */
@Injectable()
export class DefinitionCache {
  private readonly entries = new Map<string, SagaPlan>();

  constructor(private readonly repository: DefinitionsRepository) {}

  /** The version compiled for execution (see SagaPlan). */
  async get(name: string, version: number): Promise<SagaPlan> {
    const key = `${name}@${version}`;
    const cached = this.entries.get(key);
    if (cached) return cached;
    const stored = await this.repository.findVersion(name, version);
    if (!stored) throw new Error(`definition ${key} is missing although a saga references it`);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    const plan = planOf(stored.entity.spec);
    this.entries.set(key, plan);
    return plan;
  }
}
