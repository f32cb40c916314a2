import { AppConfig, ConfigError, loadConfig } from '../../src/config/app-config.js';

describe(loadConfig.name, () => {
  it('should apply the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toBeInstanceOf(AppConfig);
    expect({ ...config }).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/saga',
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'saga',
      port: 3000,
      host: '0.0.0.0',
      role: 'all',
      logLevel: 'info',
      migrateOnStart: false,
      dbPoolSize: 10,
      reconcileIntervalMs: 5000,
      requestTimeoutMs: 30000,
      authFailuresPerMinute: 60,
      authDisabled: false,
      bootstrapAdminKey: '',
      rateLimitPerMinute: 60000,
      callbackRateLimitPerMinute: 6000,
      participantAllowedHosts: [],
      participantAllowedNetworks: [],
      participantSchemes: ['https', 'http'],
      circuitFailureRate: 0.5,
      circuitMinCalls: 20,
      circuitWindowMs: 30000,
      circuitOpenMs: 10000,
      participantHostConcurrency: 32,
      crashPoints: [],
      secrets: {},
    });
    expect(config.servesApi && config.runsWorkers).toBe(true);
  });

  it('should read and convert every variable', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      REDIS_URL: 'rediss://cache:6380',
      REDIS_PREFIX: 'prod',
      PORT: '8080',
      HOST: '127.0.0.1',
      ROLE: 'worker',
      LOG_LEVEL: 'debug',
      MIGRATE_ON_START: 'TRUE',
      DB_POOL_SIZE: '25',
    });
    expect(config).toMatchObject({ port: 8080, role: 'worker', logLevel: 'debug', migrateOnStart: true, dbPoolSize: 25 });
    expect(config.servesApi).toBe(false);
    expect(config.runsWorkers).toBe(true);
  });

  it('should never repeat the bootstrap admin key in an error', () => {
    expect(() => loadConfig({ BOOTSTRAP_ADMIN_KEY: 'short-secret-value' })).toThrow(/^Invalid configuration: BOOTSTRAP_ADMIN_KEY must be 32-512/);
    expect(() => loadConfig({ BOOTSTRAP_ADMIN_KEY: 'short-secret-value' })).not.toThrow(/short-secret-value/);
  });

  it('should read secrets from SAGA_SECRET_<NAME> variables', () => {
    expect(loadConfig({ SAGA_SECRET_PAYMENTS_TOKEN: 'x1', SAGA_SECRET_lower: 'ignored', SAGA_SECRET_EMPTY: '' }).secrets).toEqual({ PAYMENTS_TOKEN: 'x1' });
  });

  it('should treat an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(3000);
  });

  it.each([
    ['PORT', '3000.5'],
    ['PORT', '-1'],
    ['ROLE', 'API'],
    ['MIGRATE_ON_START', 'maybe'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'redis://127.0.0.1:6379'],
    ['CRASH_POINTS', 'nowhere'],
    ['AUTH_DISABLED', 'yes please'],
    ['BOOTSTRAP_ADMIN_KEY', 'too-short'],
    ['RATE_LIMIT_PER_MINUTE', '0'],
    ['PARTICIPANT_ALLOWED_NETWORKS', '10.0.0.0'],
    ['PARTICIPANT_SCHEMES', 'ftp'],
    ['CIRCUIT_FAILURE_RATE', '1.5'],
    ['CIRCUIT_FAILURE_RATE', 'half'],
  ])('should refuse %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });

  it('should name every bad variable in one line', () => {
    try {
      loadConfig({ PORT: 'x', ROLE: 'y' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).message).toMatch(/PORT .*; ROLE /);
    }
  });

  it('should not repeat the value of a URL variable, which may hold a password', () => {
    expect(() => loadConfig({ REDIS_URL: 'mongodb://user:s3cret@x' })).toThrow(/^Invalid configuration: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL$/);
  });
});
