import { Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode, type FieldError } from '../common/app-error.js';
import { fieldError } from '../common/field-error.js';
import { AppConfig } from '../config/app-config.js';
import { OutboundPolicy } from '../outbound/outbound-policy.js';
import { secretNames } from '../outbound/secrets.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { DEFINITION_NAME_PATTERN, type DefinitionSpec } from './definition.model.js';
import { planOf } from './saga-plan.js';
import { DefinitionView, toDefinitionView } from './definition.view.js';
import { DefinitionsRepository } from './definitions.repository.js';
import type { CreateDefinitionDto } from './dto/create-definition.dto.js';
import { hashDefinition, normalizeDefinition } from './normalize-definition.js';
import { hostIsMapped, withoutPlaceholders } from './dto/http-url.validator.js';

/** How often a registration is retried when it loses a version-number race. */
const REGISTER_ATTEMPTS = 3;

@Injectable()
export class DefinitionsService {
  private readonly logger = new Logger(DefinitionsService.name);

  constructor(
    private readonly repository: DefinitionsRepository,
    private readonly outbound: OutboundPolicy,
    private readonly config: AppConfig,
  ) {}

  /** Stores a new version, or returns the latest when identical (`created: false`). */
  async register(dto: CreateDefinitionDto): Promise<{ definition: DefinitionView; created: boolean }> {
    const spec = normalizeDefinition(dto);
    await this.checkParticipantUrls(spec);
    const hash = hashDefinition(spec);
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = await this.repository.register(dto.name, spec, hash);
        if (stored.created) this.logger.log(`definition ${dto.name} v${stored.entity.version} registered`);
        return { definition: toDefinitionView(stored.entity, stored.enabled), created: stored.created };
      } catch (error) {
        // The name-row lock serializes registrations; the primary key is the backstop.
        if (!isUniqueViolation(error)) throw error;
        if (attempt >= REGISTER_ATTEMPTS) {
          throw new AppError(ErrorCode.CONCURRENT_UPDATE, `Definition "${dto.name}" is being changed concurrently; retry.`);
        }
      }
    }
  }

  /** Definition-time checks of HTTP participants: the SSRF guard on every URL, and that referenced secrets exist. */
  private async checkParticipantUrls(spec: DefinitionSpec): Promise<void> {
    const checks = planOf(spec).steps.flatMap((step) =>
      (['action', 'compensation'] as const).map(async (phase) => {
        const action = step[phase];
        if (!action || action.type !== 'http') return [];
        const errors: FieldError[] = [];
        // A host named by a placeholder is known only when the step runs: the call's own check judges it then (SPEC §11).
        const refused = hostIsMapped(action.url) ? null : await this.outbound.checkUrlResolving(withoutPlaceholders(action.url));
        if (refused) errors.push(fieldError([...step.path, phase, 'url'], refused));
        for (const name of secretNames(action.headers)) {
          if (this.config.secrets[name] === undefined) {
            errors.push(fieldError([...step.path, phase, 'headers'], `refers to the secret ${name}, which is not configured (set SAGA_SECRET_${name})`));
          }
        }
        return errors;
      }),
    );
    const errors = (await Promise.all(checks)).flat();
    if (errors.length > 0) throw AppError.validation(errors, 'A participant URL is not allowed.');
  }

  async latest(name: string): Promise<DefinitionView> {
    const stored = DEFINITION_NAME_PATTERN.test(name) ? await this.repository.findLatest(name) : null;
    if (!stored) throw notFound(name);
    return toDefinitionView(stored.entity, stored.enabled);
  }

  async version(name: string, version: number): Promise<DefinitionView> {
    const stored = DEFINITION_NAME_PATTERN.test(name) ? await this.repository.findVersion(name, version) : null;
    if (!stored) {
      if (!(await this.repository.findLatest(name))) throw notFound(name);
      throw new AppError(ErrorCode.DEFINITION_VERSION_NOT_FOUND, `Definition "${name}" has no version ${version}.`, {
        definition: name,
        version,
      });
    }
    return toDefinitionView(stored.entity, stored.enabled);
  }

  async versions(name: string): Promise<DefinitionView[]> {
    const stored = DEFINITION_NAME_PATTERN.test(name) ? await this.repository.findVersions(name) : null;
    if (!stored || stored.length === 0) throw notFound(name);
    return stored.map((s) => toDefinitionView(s.entity, s.enabled));
  }

  /** Latest version of each name, by name; `nextCursor` is null on the last page. */
  async list(limit: number, afterName: string | null): Promise<{ items: DefinitionView[]; nextCursor: string | null }> {
    const rows = await this.repository.listLatest(afterName, limit + 1);
    const page = rows.slice(0, limit);
    const items = page.map((s) => toDefinitionView(s.entity, s.enabled));
    return { items, nextCursor: rows.length > limit ? encodeNameCursor(page[page.length - 1].entity.name) : null };
  }

  /** Disables the name: new triggers get 409, running sagas finish normally. Idempotent. */
  async disable(name: string): Promise<DefinitionView> {
    if (!DEFINITION_NAME_PATTERN.test(name) || !(await this.repository.disable(name))) throw notFound(name);
    this.logger.log(`definition ${name} disabled`);
    return this.latest(name);
  }
}

function notFound(name: string): AppError {
  return new AppError(ErrorCode.DEFINITION_NOT_FOUND, `No definition named "${name}".`, { definition: name });
}

export function encodeNameCursor(name: string): string {
  return Buffer.from(JSON.stringify({ after: name })).toString('base64url');
}

/** Returns the name a cursor points after, or null when the cursor is not one of ours. */
export function decodeNameCursor(cursor: string): string | null {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    return typeof parsed.after === 'string' && DEFINITION_NAME_PATTERN.test(parsed.after) ? parsed.after : null;
  } catch {
    return null;
  }
}
