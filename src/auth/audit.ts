import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface AuditEntry {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown> | null;
}

/** Who changed what: definitions, replays, cancels and keys (see ADR 7). */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records a change that already happened; a failure to record is logged, not thrown (the change stands). */
  async record(actor: string, action: string, target: string, details: Record<string, unknown> | null = null): Promise<void> {
    try {
      await this.dataSource.query(`INSERT INTO audit_log (actor, action, target, details) VALUES ($1, $2, $3, $4)`, [actor, action, target, details]);
    } catch (error) {
      this.logger.error(`audit entry not recorded (${actor} ${action} ${target}): ${(error as Error).message}`);
    }
  }

  /** Newest first; `before` is the id of the last entry already seen. */
  async list(limit: number, before: string | null): Promise<AuditEntry[]> {
    return (await this.dataSource.query(
      // Ordered by the bigint column, not by the text output column named like it ("9" > "48").
      `SELECT a.id::text AS id, a.at, a.actor, a.action, a.target, a.details FROM audit_log a
        WHERE ($1::bigint IS NULL OR a.id < $1::bigint) ORDER BY a.id DESC LIMIT $2`,
      [before, limit],
    )) as AuditEntry[];
  }
}
