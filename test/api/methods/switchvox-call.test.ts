/** switchvox.call's outcome for each way the originator can answer, returned or thrown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OriginateFailedError, OriginationUnavailableError, type Originator } from '../../../src/calls/originator.ts';
import { ApiErrors } from '../../../src/api/api-error.ts';
import type { ApiServices } from '../../../src/api/methods/api-method.ts';
import { switchvoxCall } from '../../../src/api/methods/switchvox-call.ts';
import { FakeOriginator } from '../fake-originator.ts';
import { apiTestConfig, apiTestDirectory } from '../fixture.ts';

const PARAMS = { dial_first: '101', dial_second: '15551234567', dial_as_account_id: '1101', variables: { variable: ['balance=1', 'x=2'] } };
const ADMIN = { kind: 'admin', username: 'admin' } as const;

function services(originate: Originator['originate']): ApiServices {
  const originator = new FakeOriginator();
  originator.originate = originate;
  return { config: apiTestConfig(), directory: apiTestDirectory(), originator };
}

function outcomeOf(originate: Originator['originate']): Promise<unknown> {
  const outcome = switchvoxCall.handle(PARAMS, ADMIN, services(originate));
  assert.ok(outcome instanceof Promise, 'a call that reaches the originator answers through a promise');
  return outcome;
}

test('a placed call answers its call_info with the variables as the originator reported them', async () => {
  const outcome = await outcomeOf((r) =>
    Promise.resolve({ callId: 'c1', dialedFirst: `9${r.dialFirst}`, dialedSecond: r.dialSecond, variables: [{ name: 'balance', status: 'exists', id: 3 }, { name: 'x', status: 'does_not_exist' }] }),
  );
  assert.deepEqual(outcome, {
    result: [
      {
        name: 'call_info',
        attrs: { dialed_first: '9101', dialed_second: '15551234567' },
        children: [
          {
            name: 'variables',
            children: [
              { name: 'ivr_variable', attrs: { id: '3', name: 'balance', status: 'exists' } },
              { name: 'ivr_variable', attrs: { name: 'x', status: 'does_not_exist' } },
            ],
          },
        ],
      },
    ],
  });
});

test('the originator failing, by rejecting or by throwing before it returns, answers the same error codes', async () => {
  const failed = { errors: [ApiErrors.originateFailed()] };
  const unavailable = { errors: [ApiErrors.originationUnavailable()] };
  assert.deepEqual(await outcomeOf(() => Promise.reject(new OriginateFailedError('busy', '486'))), failed);
  assert.deepEqual(await outcomeOf(() => { throw new OriginateFailedError('no_route', 'first leg'); }), failed);
  assert.deepEqual(await outcomeOf(() => Promise.reject(new OriginationUnavailableError())), unavailable);
  assert.deepEqual(await outcomeOf(() => { throw new OriginationUnavailableError(); }), unavailable);
});

test('an unexpected error of the originator rejects the outcome, thrown or rejected, never escaping synchronously', async () => {
  const bug = new TypeError('bug');
  await assert.rejects(outcomeOf(() => Promise.reject(bug)), (err) => err === bug);
  await assert.rejects(outcomeOf(() => { throw bug; }), (err) => err === bug);
});
