/**
 * What trunk registration needs from SIP: one REGISTER exchange toward a trunk, the Digest challenge answered with
 * the trunk's credentials. `ua-register-port.ts` implements it over the user agent; tests may fake it.
 */
import type { Trunk } from '../../config/schema.ts';

export interface RegisterOutcome {
  readonly status: number;
  readonly reason: string;
  /** The expiry the registrar granted (our Contact's expires, else Expires), when it said one. */
  readonly expires?: number;
  /** Min-Expires of a 423. */
  readonly minExpires?: number;
}

export interface RegisterPort {
  /** Rejects on a transaction timeout or a transport error; any final response resolves. */
  register(trunk: Trunk, expires: number): Promise<RegisterOutcome>;
}
