import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { InboundAuthorizer, type InboundDecision } from '../../src/directory/inbound-authorizer.ts';
import { answerChallenge } from '../../src/sip/auth/digest.ts';
import type { Endpoint } from '../../src/sip/transport/endpoint.ts';
import { account, directory, trunk } from './fixtures.ts';

const dir = directory({
  realm: 'pbx.test',
  registrar: { max_failures: 2, window_seconds: 60, lockout_seconds: 60 },
  accounts: [account({ account_id: '1101', extension: '101', sip_password: 'pw-101' }), account({ account_id: '1800', extension: '800', type: 'ivr' })],
  trunks: [trunk({ name: 'carrier', host: '203.0.113.5' }), trunk({ name: 'named', host: 'sip.carrier.example' })],
});

const phone: Endpoint = { transport: 'udp', host: '198.51.100.7', port: 5060 };

function answer(decision: InboundDecision, username: string, password: string): string {
  assert.equal(decision.ok, false);
  const challenge = decision.ok ? [] : decision.headers.filter(([n]) => n === 'Proxy-Authenticate').map(([, v]) => v);
  return answerChallenge({ challenge, method: 'INVITE', uri: 'sip:915551234567@pbx.test', username, password });
}

describe('InboundAuthorizer', () => {
  const authorizer = () => new InboundAuthorizer({ directory: { current: () => dir }, logger: pino({ level: 'silent' }) });

  it('recognises a trunk by its IP address, without a challenge, as a trunk caller', () => {
    const decision = authorizer().authorize({ method: 'INVITE', proxyAuthorizations: [], source: { transport: 'tcp', host: '203.0.113.5', port: 40001 } });
    assert.ok(decision.ok && decision.caller.kind === 'trunk' && decision.caller.trunk.name === 'carrier');
  });

  it('challenges anyone else with 407 and accepts an extension answering with its SIP password', () => {
    const a = authorizer();
    const first = a.authorize({ method: 'INVITE', proxyAuthorizations: [], source: phone });
    assert.deepEqual([first.ok, first.ok ? 0 : first.status], [false, 407]);
    const second = a.authorize({ method: 'INVITE', proxyAuthorizations: [answer(first, '101', 'pw-101')], source: phone });
    assert.ok(second.ok && second.caller.kind === 'extension' && second.caller.account.account_id === '1101');
  });

  it('does not take a trunk host name on trust: a caller claiming it is challenged', () => {
    const decision = authorizer().authorize({ method: 'INVITE', proxyAuthorizations: [], source: { transport: 'udp', host: 'sip.carrier.example', port: 5060 } });
    assert.equal(decision.ok ? 0 : decision.status, 407);
  });

  it('re-challenges wrong credentials and locks the source out after max_failures', () => {
    const a = authorizer();
    const challenge = a.authorize({ method: 'INVITE', proxyAuthorizations: [], source: phone });
    const wrong = a.authorize({ method: 'INVITE', proxyAuthorizations: [answer(challenge, '101', 'guess')], source: phone });
    assert.equal(wrong.ok ? 0 : wrong.status, 407);
    const locked = a.authorize({ method: 'INVITE', proxyAuthorizations: [answer(wrong, '101', 'guess2')], source: phone });
    assert.equal(locked.ok ? 0 : locked.status, 403);
    const fresh = authorizer().authorize({ method: 'INVITE', proxyAuthorizations: [], source: phone });
    const stillLocked = a.authorize({ method: 'INVITE', proxyAuthorizations: [answer(fresh, '101', 'pw-101')], source: phone });
    assert.equal(stillLocked.ok ? 0 : stillLocked.status, 403);
  });

  it('never accepts an account without device credentials', () => {
    const a = authorizer();
    const challenge = a.authorize({ method: 'INVITE', proxyAuthorizations: [], source: phone });
    const ivr = a.authorize({ method: 'INVITE', proxyAuthorizations: [answer(challenge, '800', '')], source: phone });
    assert.equal(ivr.ok, false);
  });
});
