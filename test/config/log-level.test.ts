import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logLevel } from '../../src/config/log-level.ts';

test('LOG_LEVEL: default info, a pino level, anything else refused', () => {
  assert.equal(logLevel({}), 'info');
  assert.equal(logLevel({ LOG_LEVEL: '' }), 'info');
  assert.equal(logLevel({ LOG_LEVEL: 'debug' }), 'debug');
  assert.throws(() => logLevel({ LOG_LEVEL: 'loud' }), RangeError);
});
