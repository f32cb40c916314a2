#!/usr/bin/env node
// Writes src/client/api-types.ts: the TypeScript types of the API, generated
// by openapi-typescript from the OpenAPI document the built server serves
// (the app is created, not listened on). Run after `npm run build`:
//   npm run generate:client
// A test (test/e2e/client.e2e.spec.ts) fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { typesFromDocument } from '../dist/src/client/generate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { loadConfig } = await import('../dist/src/config/app-config.js');
const { createApp } = await import('../dist/src/app.factory.js');
const { buildOpenApiDocument } = await import('../dist/src/http/openapi.js');

const config = loadConfig({
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  LOG_LEVEL: 'error',
  PORT: '0',
});
const app = await createApp(config);
await app.init();
const target = path.join(root, 'src/client/api-types.ts');
writeFileSync(target, await typesFromDocument(buildOpenApiDocument(app)));
await app.close();
console.log(`wrote ${path.relative(root, target)}`);
process.exit(0);
