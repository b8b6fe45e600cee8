// SipLegSignalling.cancelInvite: an INVITE left ringing by a process that is gone, closed by its successor.
// In-memory transport: only the transaction and dialog logic is under test here (the e2e crash test runs it
// against sipp over UDP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SipLegSignalling } from '../../../src/calls/adapters/sip-leg-signalling.ts';
import type { DialRequest, ForkEvents, InviteSnapshot } from '../../../src/calls/ports.ts';
import type { InviteOptions, OutgoingCall } from '../../../src/sip/ua/outgoing-call.ts';
import { createResponse, SipRequest, type SipResponse } from '../../../src/sip/message/index.ts';
import { setup } from '../../sip/transaction/helpers.ts';
import { parseConfig } from '../../../src/config/load-config.ts';
import { Directory } from '../../../src/directory/directory.ts';

const SNAPSHOT = (peer: InviteSnapshot['peer']): InviteSnapshot => ({
  uri: 'sip:15551234567@127.0.0.2:5070',
  via: 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-before-restart;rport',
  from: '"Bench" <sip:101@127.0.0.1>;tag=ours',
  to: '<sip:15551234567@127.0.0.2>',
  callId: 'left-ringing@127.0.0.1',
  cseq: 1,
  routes: [],
  peer,
});

function signallingOn(layer: ReturnType<typeof setup>['layer']): SipLegSignalling {
  return new SipLegSignalling({
    ua: { invite: () => assert.fail('nothing is dialed here') },
    layer,
    directory: () => assert.fail('no directory needed'),
    host: '127.0.0.1',
    logger: pino({ level: 'silent' }),
  });
}

/** What the peer answers to the INVITE it still has: built from the INVITE as the snapshot describes it. */
function answerToInvite(cancel: SipRequest, status: number, extra: Array<[string, string]> = []): SipResponse {
  const invite = new SipRequest('INVITE', cancel.uri);
  for (const name of ['Via', 'From', 'To', 'Call-ID']) invite.append(name, cancel.get(name) as string);
  invite.append('CSeq', `${cancel.cseq.seq} INVITE`);
  return createResponse(invite, status, undefined, { toTag: 'theirs', headers: extra });
}

test('the CANCEL copies the INVITE; the 487 that follows is ACKed with the same branch, URI and CSeq number', async () => {
  const { net, layer, peer } = setup();
  const done = signallingOn(layer).cancelInvite(SNAPSHOT(peer));
  const cancel = net.takeSent()[0]?.message as SipRequest;
  assert.equal(cancel.method, 'CANCEL');
  assert.equal(cancel.topVia.branch, 'z9hG4bK-before-restart');
  net.inject(createResponse(cancel, 200), peer);
  await done;
  net.inject(answerToInvite(cancel, 487), peer);
  const ack = net.takeSent()[0]?.message as SipRequest;
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.uri, 'sip:15551234567@127.0.0.2:5070');
  assert.equal(ack.topVia.branch, 'z9hG4bK-before-restart');
  assert.deepEqual(ack.cseq, { seq: 1, method: 'ACK' });
  assert.equal(ack.toTag, 'theirs');
});

test('a 2xx that crossed the CANCEL is ACKed in its dialog and ended with a BYE', async () => {
  const { net, layer, peer } = setup();
  const done = signallingOn(layer).cancelInvite(SNAPSHOT(peer));
  const cancel = net.takeSent()[0]?.message as SipRequest;
  net.inject(answerToInvite(cancel, 200, [['Contact', '<sip:far@127.0.0.2:5070>']]), peer);
  const [ack, bye] = net.takeSent().map((s) => s.message as SipRequest);
  assert.equal(ack?.method, 'ACK');
  assert.equal(ack.uri, 'sip:far@127.0.0.2:5070', 'in the dialog: the 2xx Contact is the target');
  assert.notEqual(ack.topVia.branch, 'z9hG4bK-before-restart', 'an ACK for a 2xx is a transaction of its own');
  assert.deepEqual(ack.cseq, { seq: 1, method: 'ACK' });
  assert.equal(bye?.method, 'BYE');
  assert.equal(bye.callId, 'left-ringing@127.0.0.1');
  assert.equal(bye.toTag, 'theirs');
  assert.equal(bye.fromTag, 'ours');
  assert.equal(bye.cseq.seq, 2);
  net.inject(createResponse(cancel, 200), peer);
  await done;
});

test('INVITE options: credentials toward a trunk with a password only; a trunk at max_calls gets no INVITE (503)', async () => {
  const directory = new Directory(
    parseConfig(
      `api: { https: null, http: { host: 127.0.0.1, port: 0 }, admin: { username: admin, password: pw } }
trunks:
  - { name: open, host: 127.0.0.2, port: 5070, transport: udp, register: false, default_caller_id: "15550000000", max_calls: 1 }
  - { name: secured, host: 127.0.0.3, port: 5080, transport: tcp, register: false, default_caller_id: "15550000000", username: acct, password: s3cret }
accounts:
  - { account_id: "1101", extension: "101", type: sip, display_name: "User 101", sip_password: a, api_password: b }
`,
      'test.yaml',
    ),
  );
  const sent: InviteOptions[] = [];
  const call = { request: undefined, on: () => call, removeAllListeners: () => call, cancel: () => undefined };
  const signalling = new SipLegSignalling({
    ua: {
      invite: (opts) => {
        sent.push(opts);
        return call as unknown as OutgoingCall;
      },
    },
    layer: setup().layer,
    directory: () => directory,
    host: 'pbx.example',
    logger: pino({ level: 'silent' }),
  });
  const failures: string[] = [];
  const events = (forkId: string): ForkEvents => ({
    sent: () => undefined,
    progress: () => undefined,
    answered: () => undefined,
    failed: (status, reason) => failures.push(`${forkId} ${status} ${reason}`),
    ended: () => undefined,
    reinviteAnswered: () => undefined,
    reinviteFailed: () => undefined,
    dialogChanged: () => undefined,
  });
  const callerId = { name: 'Alice', number: '101', external: '15550000101' };
  const trunk = (name: string, forkId: string): DialRequest => ({
    forkId,
    callId: 'c',
    target: { kind: 'trunk', attempt: { trunk: name, number: '15551234567', rule: 'ld', isFinal: true } },
    callerId,
    autoAnswer: false,
    variables: [],
  });
  signalling.dial(
    {
      forkId: 'c.1',
      callId: 'c',
      target: { kind: 'phone', accountId: '1101', extension: '101', contact: 'sip:101@127.0.0.1:5062', sendTo: { transport: 'udp', host: '127.0.0.1', port: 5062 } },
      callerId,
      autoAnswer: true,
      variables: [],
    },
    events('c.1'),
  );
  signalling.dial(trunk('secured', 'c.2'), events('c.2'));
  signalling.dial(trunk('open', 'c.3'), events('c.3'));
  signalling.dial(trunk('open', 'c.4'), events('c.4'));
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  assert.deepEqual(
    sent.map((o) => [o.target, o.from, o.to, o.credentials]),
    [
      ['sip:101@127.0.0.1:5062', 'sip:101@pbx.example', 'sip:101@pbx.example', undefined],
      ['sip:15551234567@127.0.0.3:5080;transport=tcp', 'sip:acct@127.0.0.3', 'sip:15551234567@127.0.0.3', { username: 'acct', password: 's3cret' }],
      ['sip:15551234567@127.0.0.2:5070', 'sip:15550000101@127.0.0.2', 'sip:15551234567@127.0.0.2', undefined],
    ],
  );
  assert.equal(sent[0]!.headers!.length, 4, 'P-Asserted-Identity and the three auto-answer headers toward the phone');
  assert.deepEqual(failures, ['c.4 503 trunk open is at its limit of 1 calls']);
  assert.equal(signalling.size, 3);
});
