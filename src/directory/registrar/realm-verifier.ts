/**
 * The Digest verifier of the phones' realm (REGISTER and inbound INVITE alike): one nonce secret kept across
 * realm changes, the verifier rebuilt when a reload changes the realm.
 */
import { randomBytes } from 'node:crypto';
import { DigestVerifier, type DigestAlgorithm } from '../../sip/auth/digest.ts';

export interface RealmVerifierOptions {
  /** Shared by everything that checks the phones' nonces; a random one when absent (tests). */
  readonly nonceSecret?: Buffer | string;
  readonly nonceTtlMs?: number;
  /** MD5 only by default: some phones fail on other algorithms. */
  readonly algorithms?: readonly DigestAlgorithm[];
  readonly now: () => number;
}

export class RealmVerifier {
  readonly #options: RealmVerifierOptions;
  readonly #secret: Buffer | string;
  #verifier: DigestVerifier | undefined;

  constructor(options: RealmVerifierOptions) {
    this.#options = options;
    this.#secret = options.nonceSecret ?? randomBytes(32);
  }

  /** The verifier for the realm in force. */
  for(realm: string): DigestVerifier {
    if (this.#verifier?.realm !== realm) {
      this.#verifier = new DigestVerifier({
        realm,
        nonceTtlMs: this.#options.nonceTtlMs ?? 300_000,
        secret: this.#secret,
        now: this.#options.now,
        algorithms: this.#options.algorithms ?? ['MD5'],
      });
    }
    return this.#verifier;
  }
}
