// Types of local-postgres.mjs, for the TypeScript tests that use it.
import type { ChildProcess, StdioOptions } from 'node:child_process';

export const SHARED_HOME: string;
export class LocalPostgresError extends Error {}
export interface RunAs {
  uid: number;
  gid: number;
}
export function nativeDir(): string;
export function runAsUser(): RunAs | null;
export function reachableBinaries(user: RunAs | null, log?: (line: string) => void): string;
export function reachableDataDir(preferred: string, user: RunAs | null): string;
export function initCluster(binDir: string, dataDir: string, user: RunAs | null, password: string): Promise<void>;
export function postgresAnswers(url: string): Promise<boolean>;
export function spawnPostgres(
  binDir: string,
  dataDir: string,
  port: number,
  user: RunAs | null,
  options?: { flags?: string[]; detached?: boolean; stdio?: StdioOptions },
): ChildProcess & { spawnError?: Error };
