/**
 * Outgoing call rules (Switchvox fields): ordered; a rule matches when the number begins with pattern_begin and
 * its length is within [pattern_min, pattern_max]. The account's allow list (empty = every rule) minus its deny
 * list says which rules it may use. The first allowed match is tried first; while the matched rule is not final,
 * the next allowed match is kept as the fallback for when that rule's trunk fails.
 */
import type { Account, OutgoingCallRule } from '../config/schema.ts';
import type { Directory } from '../directory/directory.ts';
import type { TrunkAttempt } from './route-plan.ts';

export type OutsideRoute = { readonly ok: true; readonly attempts: readonly TrunkAttempt[] } | { readonly ok: false; readonly reason: string };

export function ruleAllowed(rule: OutgoingCallRule, account: Pick<Account, 'outgoing_rules_allow' | 'outgoing_rules_deny'>): boolean {
  if (account.outgoing_rules_allow.length > 0 && !account.outgoing_rules_allow.includes(rule.name)) return false;
  return !account.outgoing_rules_deny.includes(rule.name);
}

export function ruleMatches(rule: OutgoingCallRule, number: string): boolean {
  return number.startsWith(rule.pattern_begin) && number.length >= rule.pattern_min && number.length <= rule.pattern_max;
}

export function routeOutside(number: string, account: Account, directory: Directory): OutsideRoute {
  const attempts: TrunkAttempt[] = [];
  let matchedButDenied = false;
  let missingTrunk: string | undefined;
  for (const rule of directory.outgoingRules) {
    if (!ruleMatches(rule, number)) continue;
    if (!ruleAllowed(rule, account)) {
      matchedButDenied = true;
      continue;
    }
    if (!directory.trunk(rule.trunk)) {
      missingTrunk = rule.trunk;
      continue;
    }
    attempts.push({ trunk: rule.trunk, number: rule.pattern_prepend + number.slice(rule.pattern_trim), rule: rule.name, isFinal: rule.is_final });
    if (rule.is_final) break;
  }
  if (attempts.length > 0) return { ok: true, attempts };
  if (missingTrunk !== undefined) return { ok: false, reason: `outgoing call rule for ${number} names unknown trunk ${missingTrunk}` };
  if (matchedButDenied) return { ok: false, reason: `account ${account.account_id} may not use the outgoing call rules matching ${number}` };
  return { ok: false, reason: `no outgoing call rule matches ${number}` };
}
