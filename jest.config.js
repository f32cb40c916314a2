// Four projects: unit (pure logic, no I/O), integration and e2e (real
// Postgres and Redis; every test file gets its own database and key prefix),
// and chaos (fault injection against its own Postgres and Redis).
// NestJS 12 ships ES modules only, so Jest runs in its native ESM mode
// (node --experimental-vm-modules; scripts/test.sh sets it).
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // As in main.ts: decorators that read type metadata need it loaded first.
  setupFiles: ['reflect-metadata'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', useESM: true }] },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // Sources import with the `.js` suffix Node needs; Jest resolves the `.ts` file.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};

export default {
  // Integration and e2e tests wait on real services; unit tests finish far below this.
  testTimeout: 60_000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.spec.ts'], slowTestThreshold: 30 },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'], slowTestThreshold: 30 },
    // Fault injection with its own Postgres and Redis; scripts/test.sh runs it after the rest, alone.
    { ...base, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.spec.ts'], slowTestThreshold: 600 },
  ],
};
