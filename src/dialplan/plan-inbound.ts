/**
 * Routing of a call that did not come from an authenticated extension (a trunk's inbound call): it may reach an
 * extension (its call rules apply, including forwards its owner set up) or an IVR, never the outgoing call rules
 * directly. This is what keeps an unauthenticated caller from using the PBX as a free way out through a trunk.
 */
import type { Directory } from '../directory/directory.ts';
import { planLeg, type Locations } from './plan-leg.ts';
import type { RouteResult } from './route-plan.ts';

export interface PlanInboundInput {
  /** The dialed number as received (Request-URI user): no Call API settings apply. */
  readonly number: string;
  readonly directory: Directory;
  readonly locations: Locations;
}

export function planInbound(input: PlanInboundInput): RouteResult {
  const target = input.directory.byExtension(input.number);
  if (target === undefined) return { ok: false, reason: `inbound call to ${input.number}: not an extension` };
  // The extension's own account routes its call rules, so a forward to an outside number is its owner's choice.
  return planLeg({ number: input.number, account: target, directory: input.directory, locations: input.locations, ignoreApiSettings: true, followCallRules: true });
}
