/**
 * The dial plan for one leg, as a pure function of the directory and the location service's answer to "does this
 * account have a registered phone". Order: Call API settings (unless ignored), then an extension (its call rules,
 * or only its phones when call rules are ignored) or the account's outgoing call rules.
 *
 * Numbers reached from an extension's call rules (cascade, forward) are routed as that extension would dial them:
 * an extension rings its phones (its own call rules are not followed, so rules cannot loop), anything else goes
 * through the extension owner's outgoing call rules. Forward and voicemail end the rules: later steps are unreachable.
 */
import type { Account, CallRuleStep } from '../config/schema.ts';
import type { Directory } from '../directory/directory.ts';
import { applyCallApiSettings } from './call-api-settings.ts';
import { routeOutside } from './outgoing-rules.ts';
import type { Destination, RingStep, RouteResult } from './route-plan.ts';

export interface Locations {
  hasContacts(accountId: string): boolean;
}

export interface PlanLegInput {
  readonly number: string;
  /** The dial-as account: its Call API settings and outgoing call rules apply. */
  readonly account: Account;
  readonly directory: Directory;
  readonly locations: Locations;
  readonly ignoreApiSettings: boolean;
  readonly followCallRules: boolean;
}

type Routed = { readonly ok: true; readonly destination: Destination } | { readonly ok: false; readonly reason: string };

export function planLeg(input: PlanLegInput): RouteResult {
  const dialed = input.ignoreApiSettings ? input.number : applyCallApiSettings(input.number, input.account);
  const target = input.directory.byExtension(dialed);
  if (!target) {
    const outside = routeOutside(dialed, input.account, input.directory);
    if (!outside.ok) return outside;
    return { ok: true, plan: { dialed, steps: [{ destinations: [{ kind: 'trunk', attempts: outside.attempts }], ringSeconds: null }] } };
  }
  switch (target.type) {
    case 'ivr':
      return { ok: true, plan: { dialed, steps: [{ destinations: [ivr(target)], ringSeconds: null }] } };
    case 'queue':
    case 'conference':
      return { ok: false, reason: `extension ${target.extension} is a ${target.type}: ${target.type}s are not supported` };
    case 'sip':
    case 'analog':
    case 'virtual':
      break;
  }
  if (!input.followCallRules || target.call_rules.length === 0) {
    if (!input.locations.hasContacts(target.account_id)) {
      return { ok: false, reason: `extension ${target.extension} has no registered phones` };
    }
    return { ok: true, plan: { dialed, steps: [{ destinations: [phones(target)], ringSeconds: null }] } };
  }
  const steps: RingStep[] = [];
  const skipped: string[] = [];
  for (const rule of target.call_rules) {
    const step = planRuleStep(rule, target, input.directory, input.locations);
    if (step.ok) steps.push(step.step);
    else skipped.push(step.reason);
    if (rule.type === 'forward' || rule.type === 'voicemail') break;
  }
  if (steps.length === 0) {
    return { ok: false, reason: `extension ${target.extension} has no call rule that can ring (${skipped.join('; ')})` };
  }
  return { ok: true, plan: { dialed, steps } };
}

function planRuleStep(
  rule: CallRuleStep,
  owner: Account,
  directory: Directory,
  locations: Locations,
): { readonly ok: true; readonly step: RingStep } | { readonly ok: false; readonly reason: string } {
  switch (rule.type) {
    case 'ring_phones':
      if (!locations.hasContacts(owner.account_id)) return { ok: false, reason: 'no registered phones' };
      return { ok: true, step: { destinations: [phones(owner)], ringSeconds: seconds(rule.ring_seconds) } };
    case 'cascade': {
      const destinations: Destination[] = [];
      const reasons: string[] = [];
      for (const number of rule.numbers) {
        const routed = routeFromRule(number, owner, directory, locations);
        if (routed.ok) destinations.push(routed.destination);
        else reasons.push(routed.reason);
      }
      if (destinations.length === 0) return { ok: false, reason: `cascade: ${reasons.join(', ')}` };
      return { ok: true, step: { destinations, ringSeconds: seconds(rule.ring_seconds) } };
    }
    case 'forward': {
      const routed = routeFromRule(rule.number, owner, directory, locations);
      if (!routed.ok) return { ok: false, reason: `forward: ${routed.reason}` };
      return { ok: true, step: { destinations: [routed.destination], ringSeconds: null } };
    }
    case 'voicemail':
      return { ok: true, step: { destinations: [{ kind: 'voicemail', accountId: owner.account_id, extension: owner.extension }], ringSeconds: null } };
  }
}

function routeFromRule(number: string, owner: Account, directory: Directory, locations: Locations): Routed {
  const target = directory.byExtension(number);
  if (!target) {
    const outside = routeOutside(number, owner, directory);
    return outside.ok ? { ok: true, destination: { kind: 'trunk', attempts: outside.attempts } } : outside;
  }
  if (target.type === 'ivr') return { ok: true, destination: ivr(target) };
  if ((target.type === 'sip' || target.type === 'analog') && locations.hasContacts(target.account_id)) {
    return { ok: true, destination: phones(target) };
  }
  return { ok: false, reason: `extension ${target.extension} cannot ring` };
}

function phones(account: Account): Destination {
  return { kind: 'phones', accountId: account.account_id, extension: account.extension };
}

function ivr(account: Account): Destination {
  return { kind: 'ivr', accountId: account.account_id, extension: account.extension };
}

/** A rule step without a positive ring time rings until the leg's own timeout. */
function seconds(value: number): number | null {
  return value > 0 ? value : null;
}
