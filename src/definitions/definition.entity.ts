import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { DefinitionSpec } from './definition.model.js';

/** One immutable version of a saga definition. */
@Entity({ name: 'saga_definition' })
export class DefinitionEntity {
  @PrimaryColumn({ type: 'text' })
  name: string;

  @PrimaryColumn({ type: 'int' })
  version: number;

  @Column({ type: 'jsonb' })
  spec: DefinitionSpec;

  /** sha256 of the canonical JSON of `spec`. */
  @Column({ name: 'spec_hash', type: 'text' })
  specHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
