/**
 * Call API settings (Switchvox "Call API Settings" per account): the first rewrite whose length and prefix match
 * changes the number; the others are not tried, so a rewrite that prepends "9" cannot feed another rewrite.
 */
import type { Account, CallApiRewrite } from '../config/schema.ts';

export function rewriteMatches(rewrite: CallApiRewrite, number: string): boolean {
  if (rewrite.lengths.length > 0 && !rewrite.lengths.includes(number.length)) return false;
  return number.startsWith(rewrite.begins_with);
}

export function applyCallApiSettings(number: string, account: Pick<Account, 'call_api_settings'>): string {
  for (const rewrite of account.call_api_settings.rewrites) {
    if (rewriteMatches(rewrite, number)) return rewrite.prepend + number.slice(rewrite.trim);
  }
  return number;
}
