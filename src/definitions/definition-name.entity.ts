import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * One row per definition name: which version is latest and whether new
 * triggers are allowed. Its row lock serializes version allocation.
 */
@Entity({ name: 'saga_definition_name' })
export class DefinitionNameEntity {
  @PrimaryColumn({ type: 'text' })
  name: string;

  @Column({ name: 'latest_version', type: 'int' })
  latestVersion: number;

  @Column({ type: 'boolean' })
  enabled: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
