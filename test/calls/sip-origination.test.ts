/**
 * The origination engine over real SIP: our user agent on a UDP socket, sipp processes as the phone and the trunk.
 * Covers the SIP each peer receives (late offer, caller ID, auto-answer, re-INVITE bridging, BYE, CANCEL).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load-config.ts';
import { Directory } from '../../src/directory/directory.ts';
import { createMediaEngine } from '../../src/media/media-engine.ts';
import { TransportLayer } from '../../src/sip/transport/transport-layer.ts';
import { UserAgent } from '../../src/sip/ua/user-agent.ts';
import { SipLegSignalling } from '../../src/calls/adapters/sip-leg-signalling.ts';
import { MediaRingback } from '../../src/calls/adapters/media-ringback.ts';
import { OriginationRuntime } from '../../src/calls/origination-runtime.ts';
import { systemClock } from '../../src/calls/create-originator.ts';
import { OriginateFailedError, type OriginateRequest } from '../../src/calls/originator.ts';
import type { PlannedLeg, Router } from '../../src/calls/ports.ts';
import { freeUdpPort, received, sipp } from '../e2e/harness.ts';
import { MemoryRecords } from './fakes.ts';
import { noLiveCalls } from './until-calls.ts';

const logger = pino({ level: 'silent' });

async function engine(trunkPort: number, phonePort: number) {
  const transport = await TransportLayer.listen({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
  const ua = new UserAgent({ transport, t1Ms: 500, t2Ms: 4000, t4Ms: 5000, publicHost: '127.0.0.1' });
  const config = parseConfig(
    `api: { https: null, http: { host: 127.0.0.1, port: 0 }, admin: { username: admin, password: pw } }
trunks: [ { name: carrier, host: 127.0.0.1, port: ${trunkPort}, transport: udp, register: false, default_caller_id: "15550000000" } ]
accounts:
  - { account_id: "1101", extension: "101", type: sip, display_name: "User 101", sip_password: a, api_password: b, caller_id: { name: "Main Line", number: "15550000101" } }
`,
    'test.yaml',
  );
  const directory = new Directory(config);
  const base = 31000 + Math.floor(Math.random() * 100) * 200;
  const media = createMediaEngine({ rtp_host: '127.0.0.1', rtp_port_min: base, rtp_port_max: base + 150 });
  const signalling = new SipLegSignalling({ ua, layer: ua.layer, directory: () => directory, host: '127.0.0.1', logger });
  const phone: PlannedLeg = {
    dialed: '101',
    steps: [
      {
        targets: [{ kind: 'phone', accountId: '1101', extension: '101', contact: `sip:101@127.0.0.1:${phonePort}`, sendTo: { transport: 'udp', host: '127.0.0.1', port: phonePort } }],
        ringSeconds: null,
      },
    ],
  };
  const router: Router = {
    plan: ({ number }) =>
      number === '101'
        ? { ok: true, leg: phone }
        : {
            ok: true,
            leg: { dialed: `9${number}`, steps: [{ targets: [{ kind: 'trunk', attempts: [{ trunk: 'carrier', number, rule: 'ld', isFinal: true }] }], ringSeconds: null }] },
          },
  };
  const records = new MemoryRecords();
  const ringback = new MediaRingback(media);
  const runtime = new OriginationRuntime({
    signalling,
    ringback,
    router,
    records,
    ivrVariables: { lookup: () => undefined },
    clock: systemClock,
    calls: { max_ring_seconds: 60, max_call_seconds: 0 },
    logger,
  });
  return {
    runtime,
    records,
    signalling,
    account: directory.account('1101')!,
    close: async () => {
      ua.layer.close();
      await Promise.all([transport.close(), ringback.close()]);
    },
  };
}

function request(e: Awaited<ReturnType<typeof engine>>, over: Partial<OriginateRequest> = {}): OriginateRequest {
  return {
    dialFirst: '101',
    dialSecond: '15551234567',
    account: e.account,
    callerIdName: 'Reminder',
    variables: [],
    timeout: 10,
    timeoutSecondCall: 10,
    ignoreUserApiSettings: false,
    ignoreUserCallRules: false,
    autoAnswer: true,
    requestedBy: 'admin',
    method: 'switchvox.call',
    ...over,
  };
}

/** Waits until the runtime has no live call (the last BYE exchanged), bounded. */
/** A sipp phone (extension 101) and a sipp trunk playing these scenarios, and an engine between them; all stopped when the test ends. */
async function phoneAndTrunk(t: TestContext, phoneScenario: string, trunkScenario: string, timeoutS: number, phone: { args?: string[] } = {}) {
  const phonePort = await freeUdpPort();
  const trunkPort = await freeUdpPort();
  const first = await sipp({ scenario: phoneScenario, port: phonePort, service: '101', timeoutS, ...phone });
  const second = await sipp({ scenario: trunkScenario, port: trunkPort, service: '15551234567', timeoutS });
  const e = await engine(trunkPort, phonePort);
  t.after(async () => {
    first.kill();
    second.kill();
    await e.close();
  });
  return { first, second, e };
}

test('phone then trunk: late offers, ringback answer in the ACK, re-INVITE bridge, BYE from the trunk ends the phone', async (t) => {
  const { first, second, e } = await phoneAndTrunk(t, 'first-answer-wait-bye.xml', 'second-answer-send-bye.xml', 20);
  const result = await e.runtime.originate(request(e));
  assert.equal(result.dialedFirst, '101');
  assert.equal(result.dialedSecond, '915551234567');
  const [r1, r2] = await Promise.all([first.done, second.done]);
  assert.equal(r2.code, 0, r2.output + r2.messages);
  assert.equal(r1.code, 0, r1.output);
  const invite1 = received(r1.messages, /^INVITE /)[0]!;
  assert.match(invite1, /^From: "Reminder" <sip:915551234567@127\.0\.0\.1>/m);
  assert.match(invite1, /^P-Asserted-Identity: "Reminder" <sip:915551234567@127\.0\.0\.1>/m);
  assert.match(invite1, /^Call-Info: <sip:127\.0\.0\.1>;answer-after=0/m);
  assert.match(invite1, /^Alert-Info: .*info=alert-autoanswer/m);
  const invite2 = received(r2.messages, /^INVITE /)[0]!;
  assert.doesNotMatch(invite2, /answer-after|autoanswer|auto-answer/i);
  assert.match(invite2, /^INVITE sip:15551234567@127\.0\.0\.1:\d+ SIP\/2\.0/);
  assert.match(invite2, /^From: "Main Line" <sip:15550000101@127\.0\.0\.1>/m);
  // RFC 3725 flow I: the phone's re-INVITE carries the trunk's offer; the trunk's ACK carries the phone's answer.
  const reinvite = received(r1.messages, /^INVITE /)[1]!;
  assert.match(reinvite, new RegExp(`o=sipp \\S+ 1 IN IP4 127\\.0\\.0\\.1[\\s\\S]*m=audio \\d+ RTP/AVP 0 8`));
  const ack2 = received(r2.messages, /^ACK /)[0]!;
  assert.match(ack2, /o=sipp \S+ 2 IN IP4/);
  await noLiveCalls(e.runtime);
  const record = e.records.get(result.callId)!;
  assert.equal(record.state.endReason, 'second_hung_up');
  assert.ok(record.state.bridgedAt !== null);
  assert.equal(record.state.forks[0]!.dialog?.transport, 'udp');
});

test('first party busy: 41591 and the trunk never rung', async (t) => {
  const phonePort = await freeUdpPort();
  const trunkPort = await freeUdpPort();
  const first = await sipp({ scenario: 'busy.xml', port: phonePort, service: '101', timeoutS: 10 });
  const e = await engine(trunkPort, phonePort);
  t.after(async () => {
    first.kill();
    await e.close();
  });
  await assert.rejects(e.runtime.originate(request(e)), (err: unknown) => err instanceof OriginateFailedError && err.reason === 'busy');
  const r = await first.done;
  assert.equal(r.code, 0, r.output + r.messages);
  assert.equal(e.records.get([...e.records.records.keys()][0]!)?.state.legs.first.sipStatus, 486);
});

test('first party not answering: CANCEL after the timeout, then 41591', async (t) => {
  const phonePort = await freeUdpPort();
  const first = await sipp({ scenario: 'ring-cancelled.xml', port: phonePort, service: '101', timeoutS: 10 });
  const e = await engine(await freeUdpPort(), phonePort);
  t.after(async () => {
    first.kill();
    await e.close();
  });
  const started = Date.now();
  await assert.rejects(e.runtime.originate(request(e, { timeout: 1 })), (err: unknown) => err instanceof OriginateFailedError && err.reason === 'no_answer');
  assert.ok(Date.now() - started >= 990);
  const r = await first.done;
  assert.equal(r.code, 0, r.output);
  assert.equal(received(r.messages, /^CANCEL /).length, 1);
});

test('first party hangs up while the second rings: the second is cancelled', async (t) => {
  const { first, second, e } = await phoneAndTrunk(t, 'first-answer-then-bye.xml', 'ring-cancelled.xml', 10);
  const result = await e.runtime.originate(request(e));
  const [r1, r2] = await Promise.all([first.done, second.done]);
  assert.equal(r1.code, 0, r1.output);
  assert.equal(r2.code, 0, r2.output);
  await noLiveCalls(e.runtime);
  assert.equal(e.records.get(result.callId)?.state.endReason, 'first_hung_up');
});

test('second party busy after the first answered: the first party gets BYE', async (t) => {
  const { first, second, e } = await phoneAndTrunk(t, 'first-answer-wait-bye.xml', 'busy.xml', 10, { args: [] });
  const result = await e.runtime.originate(request(e));
  const r2 = await second.done;
  assert.equal(r2.code, 0, r2.output);
  await noLiveCalls(e.runtime);
  assert.equal(e.records.get(result.callId)?.state.endReason, 'second_busy');
  // The phone's scenario expects a re-INVITE before the BYE, so the BYE ends it in error (killing it instead could
  // lose the BYE not yet traced); what it received is what counts.
  const r1 = await first.done;
  assert.equal(received(r1.messages, /^BYE /).length, 1);
});

test('hold after the bridge: the first party re-INVITE (a=sendonly) is relayed to the second, whose answer is the 200', async (t) => {
  const { first, second, e } = await phoneAndTrunk(t, 'first-hold-reinvite.xml', 'second-hold-relayed.xml', 15);
  const result = await e.runtime.originate(request(e));
  const [r1, r2] = await Promise.all([first.done, second.done]);
  assert.equal(r1.code, 0, r1.output + r1.messages);
  assert.equal(r2.code, 0, r2.output + r2.messages);
  // Bridge re-INVITE, then the relayed hold: the second party's second INVITE carries the first party's offer.
  const relayed = received(r2.messages, /^INVITE /)[1]!;
  assert.match(relayed, /a=sendonly/);
  assert.match(relayed, /o=sipp \S+ 3 IN IP4/);
  const ok = received(r1.messages, /^SIP\/2\.0 200/).at(-2)!;
  assert.match(ok, /o=second \S+ 2 IN IP4[\s\S]*a=recvonly/);
  await noLiveCalls(e.runtime);
  assert.equal(e.records.get(result.callId)?.state.endReason, 'first_hung_up');
});

test('a relayed re-INVITE the second party refuses with 488 is answered 488 to the first; the call stays up', async (t) => {
  const { first, second, e } = await phoneAndTrunk(t, 'first-hold-refused.xml', 'second-hold-refuses.xml', 15);
  const result = await e.runtime.originate(request(e));
  const [r1, r2] = await Promise.all([first.done, second.done]);
  assert.equal(r1.code, 0, r1.output + r1.messages);
  assert.equal(r2.code, 0, r2.output + r2.messages);
  assert.match(received(r2.messages, /^INVITE /)[1]!, /a=sendonly/);
  await noLiveCalls(e.runtime);
  // The refusal did not end the call: the first party's own BYE did.
  assert.equal(e.records.get(result.callId)?.state.endReason, 'first_hung_up');
});
