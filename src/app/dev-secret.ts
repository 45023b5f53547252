/**
 * The development signing secret: when no HUB_AUTH_JWT_SECRET or JWKS URL is
 * configured, `hub serve --dev` generates a random HS256 secret once and keeps
 * it in the data directory, so tokens minted by `hub token` keep working across
 * restarts. Never used outside development mode.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'dev-jwt-secret';

/** Path of the development secret inside a data directory. */
export function devSecretPath(dataDir: string): string {
  return join(dataDir, FILE);
}

/** Reads the development secret of a data directory, or undefined when none was made. */
export function readDevSecret(dataDir: string): string | undefined {
  const path = devSecretPath(dataDir);
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8').trim();
  return text.length >= 32 ? text : undefined;
}

/** Returns the development secret of a data directory, creating it (mode 0600) on first use. */
export function ensureDevSecret(dataDir: string): string {
  const existing = readDevSecret(dataDir);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(devSecretPath(dataDir), `${secret}\n`, { mode: 0o600 });
  chmodSync(devSecretPath(dataDir), 0o600);
  return secret;
}
