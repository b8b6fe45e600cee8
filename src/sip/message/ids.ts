/** Identifiers a UA mints: branches (RFC 3261 §8.1.1.7), tags (§19.3) and Call-IDs (§8.1.1.4). */
import { randomBytes } from 'node:crypto';

// Refilled in bulk: one randomBytes call per 512 identifiers instead of one per identifier.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolPos = 0;

function randomHex(bytes: number): string {
  if (poolPos + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolPos = 0;
  }
  const out = pool.toString('hex', poolPos, poolPos + bytes);
  poolPos += bytes;
  return out;
}

/** The magic cookie `z9hG4bK` followed by 64 random bits. */
export function newBranch(): string {
  return 'z9hG4bK' + randomHex(8);
}

/** 64 random bits (§19.3 asks for at least 32). */
export function newTag(): string {
  return randomHex(8);
}

/** 128 random bits, optionally `@host`. */
export function newCallId(host?: string): string {
  const id = randomHex(16);
  return host === undefined ? id : `${id}@${host}`;
}
