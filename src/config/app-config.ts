import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsString, Matches, Max, Min, ValidateIf, validateSync } from 'class-validator';
import { CRASH_POINT_NAMES } from '../common/crash-points.js';
import { secretsFromEnv } from '../outbound/secrets.js';
import { IsConnectionUrl } from './is-connection-url.js';

const CRASH_POINT_SPEC = new RegExp(`^(${CRASH_POINT_NAMES.join('|')})(@[1-9][0-9]{0,5})?(:stop)?$`);

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The server's whole configuration, read once from the environment at start.
 * Nothing else in the code reads `process.env`, except tracing/, where the
 * OpenTelemetry SDK reads its standard OTEL_* variables itself.
 */
export class AppConfig {
  /** Postgres connection URL. @defaultValue postgres://postgres@127.0.0.1:5432/saga */
  @IsConnectionUrl(['postgres:', 'postgresql:'])
  readonly databaseUrl: string;

  /** Redis connection URL. @defaultValue redis://127.0.0.1:6379 */
  @IsConnectionUrl(['redis:', 'rediss:'])
  readonly redisUrl: string;

  /** Prefix of every Redis key the server writes (BullMQ queues included). @defaultValue saga */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1-64 letters, digits, "_" or "-"' })
  readonly redisPrefix: string;

  /** HTTP port. @defaultValue 3000 */
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(65535)
  readonly port: number;

  /** Address the HTTP server binds to. @defaultValue 0.0.0.0 */
  @IsString()
  readonly host: string;

  /** What this process does: serve the API, run workers, or both. @defaultValue all */
  @IsIn(ROLES, { message: `must be one of ${ROLES.join(', ')}` })
  readonly role: Role;

  /** @defaultValue info */
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  readonly logLevel: LogLevel;

  /** Apply pending migrations before serving. @defaultValue false */
  @IsBoolean({ message: 'must be true or false' })
  readonly migrateOnStart: boolean;

  /** Postgres connections in this process's pool. @defaultValue 10 */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(500)
  readonly dbPoolSize: number;

  /**
   * How often the reconciler looks for missing work and passed deadlines, in ms.
   * Work missing from Redis is re-dispatched within about three intervals.
   * @defaultValue 5000
   */
  @IsInt({ message: 'must be an integer' })
  @Min(100)
  @Max(600_000)
  readonly reconcileIntervalMs: number;

  /**
   * How long a client may take to send a whole request (headers and body), in
   * ms; a request still incomplete then is answered 408 and its connection
   * closed. Long polls (`waitMs`) are not affected: their request is complete.
   * @defaultValue 30000
   */
  @IsInt({ message: 'must be an integer' })
  @Min(500)
  @Max(600_000)
  readonly requestTimeoutMs: number;

  /**
   * Switches API-key authentication off: every request is allowed. Only for
   * local experiments; the server warns at every start. @defaultValue false
   */
  @IsBoolean({ message: 'must be true or false' })
  readonly authDisabled: boolean;

  /**
   * An admin key with every scope, to create the first keys (`POST /v1/keys`).
   * At least 32 characters; compared as a hash, never logged. @defaultValue none
   */
  @ValidateIf((c: AppConfig) => c.bootstrapAdminKey !== '')
  @Matches(/^[\x21-\x7e]{32,512}$/, { message: 'must be 32-512 printable characters (e.g. openssl rand -base64 48)' })
  readonly bootstrapAdminKey: string;

  /** Requests per minute allowed to one API key (429 with Retry-After beyond). @defaultValue 60000 */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(10_000_000)
  readonly rateLimitPerMinute: number;

  /**
   * Callbacks (SPEC §10) one client address may post per minute; a token
   * alone may be posted CALLBACK_RATE_PER_TOKEN times a minute. @defaultValue 6000
   */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(10_000_000)
  readonly callbackRateLimitPerMinute: number;

  /**
   * Failed authentications (a key that is unknown, expired or revoked) one
   * client address may make per minute; beyond it, requests with a key not
   * already verified get 429 without a database lookup. @defaultValue 60
   */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(1_000_000)
  readonly authFailuresPerMinute: number;

  /**
   * Hosts participant URLs may name: exact names, `*.suffix` wildcards, IP
   * addresses or CIDR ranges. Empty: any host (addresses are still checked).
   * @defaultValue empty
   */
  @Matches(/^[A-Za-z0-9*.:\/\[\]-]{1,255}$/, { each: true, message: 'must be comma-separated host names, *.suffix patterns, IPs or CIDR ranges' })
  readonly participantAllowedHosts: string[];

  /**
   * Non-public address ranges (CIDR) participants may be reached at. Loopback,
   * private, link-local and other non-public addresses are refused unless
   * inside one of these, at definition time and on every call. @defaultValue empty
   */
  @Matches(/^[0-9A-Fa-f.:]+\/\d{1,3}$/, { each: true, message: 'must be comma-separated CIDR ranges such as 10.0.0.0/8' })
  readonly participantAllowedNetworks: string[];

  /** URL schemes participants may use. @defaultValue https,http */
  @IsIn(['http', 'https'], { each: true, message: 'must list only http and https' })
  readonly participantSchemes: string[];

  /** Share of failed calls (timeouts, connection errors, 5xx, 429) that opens a participant host's circuit. @defaultValue 0.5 */
  @Min(0.01)
  @Max(1)
  @IsNumber({}, { message: 'must be a number' })
  readonly circuitFailureRate: number;

  /** Calls within the window before the failure rate counts. @defaultValue 20 */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  readonly circuitMinCalls: number;

  /** The sliding window of outcomes, in ms. @defaultValue 30000 */
  @IsInt({ message: 'must be an integer' })
  @Min(100)
  readonly circuitWindowMs: number;

  /** How long an open circuit waits before a probe call, in ms. @defaultValue 10000 */
  @IsInt({ message: 'must be an integer' })
  @Min(10)
  readonly circuitOpenMs: number;

  /** Calls in flight to one participant host per worker process; more wait their turn outside the worker's slots. @defaultValue 32 */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(10_000)
  readonly participantHostConcurrency: number;

  /** Test-only: crash points to arm (see common/crash-points.ts). @defaultValue none */
  @Matches(CRASH_POINT_SPEC, { each: true, message: `must be a comma-separated list of ${CRASH_POINT_NAMES.join(', ')} (optionally name@N, name:stop)` })
  readonly crashPoints: string[];

  /** Secrets participant headers may refer to (`${secret:NAME}`), from SAGA_SECRET_<NAME> variables. Never logged. */
  readonly secrets: Readonly<Record<string, string>>;

  get servesApi(): boolean {
    return this.role === 'api' || this.role === 'all';
  }

  get runsWorkers(): boolean {
    return this.role === 'worker' || this.role === 'all';
  }
}

/** Environment variable → config property, with the default used when unset. */
const VARIABLES: ReadonlyArray<{ env: string; key: keyof AppConfig; kind: 'string' | 'int' | 'number' | 'bool' | 'list'; def: string }> = [
  { env: 'DATABASE_URL', key: 'databaseUrl', kind: 'string', def: 'postgres://postgres@127.0.0.1:5432/saga' },
  { env: 'REDIS_URL', key: 'redisUrl', kind: 'string', def: 'redis://127.0.0.1:6379' },
  { env: 'REDIS_PREFIX', key: 'redisPrefix', kind: 'string', def: 'saga' },
  { env: 'PORT', key: 'port', kind: 'int', def: '3000' },
  { env: 'HOST', key: 'host', kind: 'string', def: '0.0.0.0' },
  { env: 'ROLE', key: 'role', kind: 'string', def: 'all' },
  { env: 'LOG_LEVEL', key: 'logLevel', kind: 'string', def: 'info' },
  { env: 'MIGRATE_ON_START', key: 'migrateOnStart', kind: 'bool', def: 'false' },
  { env: 'DB_POOL_SIZE', key: 'dbPoolSize', kind: 'int', def: '10' },
  { env: 'RECONCILE_INTERVAL_MS', key: 'reconcileIntervalMs', kind: 'int', def: '5000' },
  { env: 'REQUEST_TIMEOUT_MS', key: 'requestTimeoutMs', kind: 'int', def: '30000' },
  { env: 'AUTH_DISABLED', key: 'authDisabled', kind: 'bool', def: 'false' },
  { env: 'BOOTSTRAP_ADMIN_KEY', key: 'bootstrapAdminKey', kind: 'string', def: '' },
  { env: 'RATE_LIMIT_PER_MINUTE', key: 'rateLimitPerMinute', kind: 'int', def: '60000' },
  { env: 'CALLBACK_RATE_LIMIT_PER_MINUTE', key: 'callbackRateLimitPerMinute', kind: 'int', def: '6000' },
  { env: 'AUTH_FAILURES_PER_MINUTE', key: 'authFailuresPerMinute', kind: 'int', def: '60' },
  { env: 'PARTICIPANT_ALLOWED_HOSTS', key: 'participantAllowedHosts', kind: 'list', def: '' },
  { env: 'PARTICIPANT_ALLOWED_NETWORKS', key: 'participantAllowedNetworks', kind: 'list', def: '' },
  { env: 'PARTICIPANT_SCHEMES', key: 'participantSchemes', kind: 'list', def: 'https,http' },
  { env: 'CIRCUIT_FAILURE_RATE', key: 'circuitFailureRate', kind: 'number', def: '0.5' },
  { env: 'CIRCUIT_MIN_CALLS', key: 'circuitMinCalls', kind: 'int', def: '20' },
  { env: 'CIRCUIT_WINDOW_MS', key: 'circuitWindowMs', kind: 'int', def: '30000' },
  { env: 'CIRCUIT_OPEN_MS', key: 'circuitOpenMs', kind: 'int', def: '10000' },
  { env: 'PARTICIPANT_HOST_CONCURRENCY', key: 'participantHostConcurrency', kind: 'int', def: '32' },
  { env: 'CRASH_POINTS', key: 'crashPoints', kind: 'list', def: '' },
];

/** Variables whose values may hold credentials: never echoed in errors or logs. */
const SECRET_BEARING = new Set(['DATABASE_URL', 'REDIS_URL', 'BOOTSTRAP_ADMIN_KEY']);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function convert(raw: string, kind: 'string' | 'int' | 'number' | 'bool' | 'list'): unknown {
  if (kind === 'list') return raw.split(',').map((x) => x.trim()).filter(Boolean);
  if (kind === 'int') return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (kind === 'number') return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (kind === 'bool') {
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    return raw;
  }
  return raw.trim();
}

/**
 * Reads and validates the configuration. Throws a ConfigError whose message is
 * one line naming every bad variable (values of secret-bearing variables are
 * not repeated).
 */
export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  const plain: Record<string, unknown> = {};
  for (const v of VARIABLES) {
    const raw = env[v.env];
    plain[v.key] = convert(raw === undefined || raw === '' ? v.def : raw, v.kind);
  }
  plain.secrets = Object.freeze(secretsFromEnv(env));
  const config = plainToInstance(AppConfig, plain);
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const parts = errors.map((e) => {
      const v = VARIABLES.find((x) => x.key === e.property)!;
      // class-validator's own messages start with the property name; ours do not.
      const why = Object.values(e.constraints ?? {})
        .map((m) => (m.startsWith(`${e.property} `) ? m.slice(e.property.length + 1) : m))
        .join(', ');
      const shown = SECRET_BEARING.has(v.env) ? '' : ` (got "${String(env[v.env])}")`;
      return `${v.env} ${why}${shown}`;
    });
    throw new ConfigError(`Invalid configuration: ${parts.join('; ')}`);
  }
  return Object.freeze(config);
}
