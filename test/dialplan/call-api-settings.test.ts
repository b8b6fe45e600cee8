import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallApiRewrite } from '../../src/config/schema.ts';
import { applyCallApiSettings } from '../../src/dialplan/call-api-settings.ts';

const r = (fields: Partial<CallApiRewrite>): CallApiRewrite => ({ lengths: [], begins_with: '', trim: 0, prepend: '', ...fields });

describe('applyCallApiSettings', () => {
  const cases: [string, readonly CallApiRewrite[], string, string][] = [
    ['no rewrites: unchanged', [], '15554578299', '15554578299'],
    ['length match prepends', [r({ lengths: [10, 11], prepend: '9' })], '15554578299', '915554578299'],
    ['length mismatch: unchanged', [r({ lengths: [10, 11], prepend: '9' })], '915554578299', '915554578299'],
    ['prefix and trim', [r({ begins_with: '+1', trim: 2, prepend: '91' })], '+15554578299', '915554578299'],
    ['prefix mismatch: unchanged', [r({ begins_with: '0', trim: 1 })], '15554578299', '15554578299'],
    ['only the first matching rewrite applies', [r({ lengths: [4], prepend: '9' }), r({ lengths: [4, 5], prepend: '8' })], '1234', '91234'],
    ['later rewrite when the first does not match', [r({ lengths: [4], prepend: '9' }), r({ lengths: [5], prepend: '8' })], '12345', '812345'],
  ];
  for (const [name, rewrites, number, expected] of cases) {
    it(name, () => assert.equal(applyCallApiSettings(number, { call_api_settings: { rewrites } }), expected));
  }
});
