/**
 * switchvox.call end to end: the server built from the real config format, driven over HTTPS, with sipp
 * processes registered as the phones and listening as the trunks. Each test checks the API answer and the SIP
 * each peer received.
 */
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNTS,
  api,
  callJson,
  callXml,
  currentCalls,
  freeUdpPort,
  received,
  register,
  sipp,
  startInProcess,
  startServer,
  storedCall,
  type RunningServer,
  type SippRun,
} from './harness.ts';
import { noLiveCalls as noLiveCallsIn, untilCalls } from '../calls/until-calls.ts';

let server: RunningServer;
before(async () => {
  server = await startInProcess();
});
after(async () => {
  await server.stop();
});

const [A101, A102] = ACCOUNTS as [(typeof ACCOUNTS)[number], (typeof ACCOUNTS)[number]];

/** A sipp UAS playing `scenario`, registered as a phone of the extension until the test ends. */
async function phone(t: TestContext, account: (typeof ACCOUNTS)[number], scenario: string, timeoutS = 15): Promise<SippRun> {
  const run = await sipp({ scenario, port: await freeUdpPort(), service: account.ext, timeoutS });
  await register(server, account, run.port);
  t.after(() => register(server, account, run.port, 0));
  return run;
}

function trunk(port: number, scenario: string, timeoutS = 15): Promise<SippRun> {
  return sipp({ scenario, port, service: 'carrier', timeoutS });
}

/** Waits until the server has no live call (the last BYE or CANCEL has been handled). */
function noLiveCalls(ms = 5000): Promise<void> {
  return noLiveCallsIn(server.engine!.originator, ms);
}

async function ok(run: SippRun): Promise<string> {
  const r = await run.done;
  assert.equal(r.code, 0, `${r.output}\n${r.messages}`);
  return r.messages;
}

test('extension to extension over XML as admin: caller ID, auto-answer, variables, bridge, BYE from the second party', async (t) => {
  const first = await phone(t, A101, 'first-answer-wait-bye.xml');
  const second = await phone(t, A102, 'second-answer-send-bye.xml');
  t.after(() => (first.kill(), second.kill()));
  const answer = await api(
    server,
    'xml',
    callXml({
      dial_first: '101',
      dial_second: '102',
      dial_as_account_id: '1101',
      caller_id_name: 'Reminder',
      auto_answer: '1',
      variables: ['balance=300', 'nope=1'],
    }),
  );
  assert.equal(answer.status, 200);
  assert.match(answer.body, /<call_info dialed_first="101" dialed_second="102">/);
  assert.match(answer.body, /<ivr_variable id="3" name="balance" status="exists"\s*\/>/);
  assert.match(answer.body, /<ivr_variable name="nope" status="does_not_exist"\s*\/>/);
  const m1 = await ok(first);
  const m2 = await ok(second);
  const invite1 = received(m1, /^INVITE /)[0]!;
  assert.match(invite1, /^From: "Reminder" <sip:102@/m);
  assert.match(invite1, /^P-Asserted-Identity: "Reminder" <sip:102@/m);
  assert.match(invite1, /^Call-Info: <sip:[^>]+>;answer-after=0/m);
  assert.match(invite1, /^Alert-Info: <http:\/\/127\.0\.0\.1>;info=alert-autoanswer/m);
  const invite2 = received(m2, /^INVITE /)[0]!;
  assert.doesNotMatch(invite2, /answer-after|autoanswer/);
  assert.match(invite2, /^From: "User 101" <sip:15550001 ?01@/m);
  assert.equal(received(m1, /^BYE /).length, 1, 'the first party is hung up when the second hangs up');
  await noLiveCalls();
});

test('extension to outside over JSON as the extension user: dialed numbers rewritten, BYE from the first party', async (t) => {
  const first = await phone(t, A101, 'first-answer-send-bye.xml');
  const far = await trunk(server.ports.trunk, 'second-answer-wait-bye.xml');
  t.after(() => (first.kill(), far.kill()));
  const answer = await api(
    server,
    'json',
    callJson({ dial_first: '101', dial_second: '15551234567', caller_id_name: 'Sales' }, 'switchvox.users.call'),
    A101.ext,
    A101.apiPassword,
  );
  assert.equal(answer.status, 200);
  const body = JSON.parse(answer.body) as { response: { result: { call_info: { dialed_first: string; dialed_second: string } } } };
  assert.deepEqual(
    { first: body.response.result.call_info.dialed_first, second: body.response.result.call_info.dialed_second },
    { first: '101', second: '915551234567' },
  );
  await ok(first);
  const mt = await ok(far);
  const invite = received(mt, /^INVITE /)[0]!;
  assert.match(invite, /^INVITE sip:15551234567@127\.0\.0\.1:\d+ SIP\/2\.0/, 'the trunk gets the number after the rule trimmed the 9');
  assert.match(invite, /^From: "User 101" <sip:1555000101@/m);
  assert.match(invite, /^P-Asserted-Identity: "User 101" <sip:1555000101@/m);
  assert.equal(received(mt, /^BYE /).length, 1, 'the trunk is hung up when the first party hangs up');
  assert.match(invite, /^From: "User 101"/m);
  await noLiveCalls();
});

test('outside to outside with auto_answer=1: no auto-answer headers toward a trunk, first caller ID is the second number as the carrier gets it', async (t) => {
  const far1 = await trunk(server.ports.trunk2, 'first-answer-wait-bye.xml');
  const far2 = await trunk(server.ports.trunk, 'second-answer-send-bye.xml');
  t.after(() => (far1.kill(), far2.kill()));
  const answer = await api(server, 'xml', callXml({ dial_first: '7001000', dial_second: '15557654321', dial_as_account_id: '1102', auto_answer: '1' }));
  assert.match(answer.body, /<call_info dialed_first="7001000" dialed_second="915557654321">/);
  const m1 = await ok(far1);
  await ok(far2);
  const invite1 = received(m1, /^INVITE /)[0]!;
  assert.match(invite1, /^INVITE sip:7001000@/);
  assert.doesNotMatch(invite1, /answer-after|autoanswer|auto-answer/i);
  // The long-distance rule trims the outside-line 9: the carrier presents the number it would be dialed as.
  assert.match(invite1, /^From: "PBX" <sip:15557654321@/m);
  assert.match(invite1, /^P-Asserted-Identity: "PBX" <sip:15557654321@/m);
  await noLiveCalls();
});

test('first leg busy: 41591, the second number never dialed', async (t) => {
  const first = await phone(t, A101, 'busy.xml');
  t.after(() => first.kill());
  const answer = await api(server, 'xml', callXml({ dial_first: '101', dial_second: '15551234567', dial_as_account_id: '1101' }));
  assert.match(answer.body, /<error code="41591"/);
  await ok(first);
  await noLiveCalls();
});

test('first leg not answering: CANCEL after the timeout, then 41591 (JSON)', async (t) => {
  const first = await phone(t, A101, 'ring-cancelled.xml');
  t.after(() => first.kill());
  const started = Date.now();
  const answer = await api(server, 'json', callJson({ dial_first: '101', dial_second: '15551234567', dial_as_account_id: 1101, timeout: 1 }));
  assert.ok(Date.now() - started >= 1000, `${answer.body} ${JSON.stringify(server.engine!.records.recent(1))}`);
  const body = JSON.parse(answer.body) as { response: { errors: { error: { code: number } } } };
  assert.equal(body.response.errors.error.code, 41591);
  const m = await ok(first);
  assert.equal(received(m, /^CANCEL /).length, 1);
});

test('second leg busy: the API answered, then the first party is hung up', async (t) => {
  const first = await phone(t, A101, 'first-answer-until-bye.xml');
  const far = await trunk(server.ports.trunk, 'busy.xml');
  t.after(() => (first.kill(), far.kill()));
  const answer = await api(server, 'xml', callXml({ dial_first: '101', dial_second: '15551234567', dial_as_account_id: '1101' }));
  assert.match(answer.body, /<call_info /);
  await ok(far);
  const m1 = await ok(first);
  assert.equal(received(m1, /^BYE /).length, 1);
  await noLiveCalls();
  assert.equal(server.engine!.records.recent(1)[0]!.endReason, 'second_busy');
});

test('second leg not answering in timeout_second_call: CANCEL to it, the first party hung up', async (t) => {
  const first = await phone(t, A101, 'first-answer-until-bye.xml');
  const far = await trunk(server.ports.trunk, 'ring-cancelled.xml');
  t.after(() => (first.kill(), far.kill()));
  const answer = await api(server, 'xml', callXml({ dial_first: '101', dial_second: '15551234567', dial_as_account_id: '1101', timeout_second_call: '1' }));
  assert.match(answer.body, /<call_info /);
  const mt = await ok(far);
  assert.equal(received(mt, /^CANCEL /).length, 1);
  await ok(first);
  await noLiveCalls();
  assert.equal(server.engine!.records.recent(1)[0]!.endReason, 'second_no_answer');
});

test('first party hanging up while the second rings cancels the second', async (t) => {
  const first = await phone(t, A101, 'first-answer-then-bye.xml');
  const far = await trunk(server.ports.trunk, 'ring-cancelled.xml');
  t.after(() => (first.kill(), far.kill()));
  const answer = await api(server, 'xml', callXml({ dial_first: '101', dial_second: '15551234567', dial_as_account_id: '1101' }));
  assert.match(answer.body, /<call_info /);
  await ok(first);
  const mt = await ok(far);
  assert.equal(received(mt, /^CANCEL /).length, 1);
  await noLiveCalls();
  assert.equal(server.engine!.records.recent(1)[0]!.endReason, 'first_hung_up');
});

test('a second leg with no route: 41591 and nobody rung', async (t) => {
  const first = await phone(t, A101, 'busy.xml', 5);
  t.after(() => first.kill());
  const answer = await api(server, 'xml', callXml({ dial_first: '101', dial_second: '55', dial_as_account_id: '1101' }));
  assert.match(answer.body, /<error code="41591"/);
  first.kill();
  const r = await first.done;
  assert.equal(received(r.messages, /^INVITE /).length, 0, 'the first phone never rang');
  assert.equal(server.engine!.records.recent(1)[0]!.endReason, 'second_no_route');
});

test('currentCalls.getList shows the bridged call and hangUp ends both legs', async (t) => {
  const first = await phone(t, A101, 'first-answer-wait-bye.xml');
  const second = await phone(t, A102, 'second-answer-wait-bye.xml');
  t.after(() => (first.kill(), second.kill()));
  const answer = await api(server, 'xml', callXml({ dial_first: '101', dial_second: '102', dial_as_account_id: '1101' }));
  assert.match(answer.body, /<call_info /);
  const runtime = server.engine!.originator;
  await untilCalls(runtime, () => runtime.listCalls()[0]?.state === 'bridged', 'the call to bridge');
  const list = await api(server, 'xml', '<request method="switchvox.currentCalls.getList"><parameters/></request>');
  const id = server.engine!.originator.listCalls()[0]!.callId;
  assert.ok(list.body.includes(id), list.body);
  const hang = await api(server, 'xml', `<request method="switchvox.currentCalls.hangUp"><parameters><current_call_id>${id}</current_call_id></parameters></request>`);
  assert.doesNotMatch(hang.body, /<error/);
  await ok(first);
  await ok(second);
  await noLiveCalls();
  assert.equal(server.engine!.records.recent(1)[0]!.endReason, 'api_hangup');
});

test('after a crash (SIGKILL of the served process), the restarted server sends BYE to both parties and closes the record', async (t) => {
  const doomed = await startServer();
  const first = await sipp({ scenario: 'first-answer-wait-bye.xml', port: await freeUdpPort(), service: '101', timeoutS: 30 });
  const far = await trunk(doomed.ports.trunk, 'second-answer-wait-bye.xml', 30);
  t.after(() => (first.kill(), far.kill()));
  await register(doomed, A101, first.port);
  const answer = await api(doomed, 'xml', callXml({ dial_first: '101', dial_second: '15551234567', dial_as_account_id: '1101' }));
  assert.match(answer.body, /<call_info /, answer.body);
  const deadline = Date.now() + 5000;
  let callId = '';
  // Bridged in the store too: the record is what survives the crash.
  while (storedCall(doomed, callId)?.phase !== 'bridged') {
    assert.ok(Date.now() < deadline, 'call never bridged');
    callId = (await currentCalls(doomed))[0]?.id ?? '';
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await doomed.crash!();
  const restarted = await startServer({ again: doomed });
  t.after(() => restarted.stop());
  const m1 = await ok(first);
  const mt = await ok(far);
  assert.equal(received(m1, /^BYE /).length, 1);
  assert.equal(received(mt, /^BYE /).length, 1);
  // RFC 3261 §12.2.2: the BYE's CSeq is above the bridging re-INVITE's, or a phone refuses it as out of order.
  const cseq = (msg: string): number => Number(/^CSeq: *(\d+)/m.exec(msg)?.[1]);
  assert.ok(cseq(received(m1, /^BYE /)[0]!) > cseq(received(m1, /^INVITE /)[1]!), 'BYE CSeq above the re-INVITE');
  assert.deepEqual(storedCall(restarted, callId), { call_id: callId, phase: 'ended', live: 0, end_reason: 'server_restart' });
  assert.deepEqual(await currentCalls(restarted), []);
});

test('after a crash while the second party rings, the restarted server CANCELs its INVITE (same branch, CSeq, tags)', async (t) => {
  const doomed = await startServer();
  const first = await sipp({ scenario: 'first-answer-until-bye.xml', port: await freeUdpPort(), service: '101', timeoutS: 30 });
  const far = await trunk(doomed.ports.trunk, 'ring-cancelled-after-restart.xml', 30);
  t.after(() => (first.kill(), far.kill()));
  await register(doomed, A101, first.port);
  const answer = await api(doomed, 'xml', callXml({ dial_first: '101', dial_second: '15551234567', dial_as_account_id: '1101' }));
  assert.match(answer.body, /<call_info /, answer.body);
  const callId = (await currentCalls(doomed))[0]?.id ?? '';
  const deadline = Date.now() + 5000;
  // Ringing the second party in the store too: the record is what survives the crash.
  while (storedCall(doomed, callId)?.phase !== 'ringing_second') {
    assert.ok(Date.now() < deadline, 'second party never rung');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await doomed.crash!();
  const restarted = await startServer({ again: doomed });
  t.after(() => restarted.stop());
  const mt = await ok(far);
  const m1 = await ok(first);
  assert.equal(received(m1, /^BYE /).length, 1);
  const invite = received(mt, /^INVITE /)[0]!;
  const cancel = received(mt, /^CANCEL /)[0]!;
  const header = (msg: string, name: string): string => new RegExp(`^${name}: *(.*)$`, 'mi').exec(msg)?.[1]?.trim() ?? '';
  assert.equal(cancel.split(/\r?\n/)[0], invite.split(/\r?\n/)[0]!.replace(/^INVITE/, 'CANCEL'));
  assert.equal(header(cancel, 'Via'), header(invite, 'Via'));
  for (const name of ['From', 'To', 'Call-ID']) assert.equal(header(cancel, name), header(invite, name));
  assert.equal(header(cancel, 'CSeq'), header(invite, 'CSeq').replace('INVITE', 'CANCEL'));
  // §17.1.1.3: the 487 is ACKed in the INVITE's transaction (same Request-URI, branch and CSeq number).
  const ack = received(mt, /^ACK /)[0]!;
  assert.equal(ack.split(/\r?\n/)[0], invite.split(/\r?\n/)[0]!.replace(/^INVITE/, 'ACK'));
  assert.equal(header(ack, 'Via'), header(invite, 'Via'));
  assert.equal(header(ack, 'CSeq'), header(invite, 'CSeq').replace('INVITE', 'ACK'));
  assert.deepEqual(storedCall(restarted, callId), { call_id: callId, phase: 'ended', live: 0, end_reason: 'server_restart' });
});

test('an extension with two registered phones rings both: the first 2xx wins, the other phone gets CANCEL', async (t) => {
  const ringing = await phone(t, A101, 'ring-cancelled.xml');
  const answering = await phone(t, A101, 'first-answer-wait-bye.xml');
  const far = await trunk(server.ports.trunk, 'second-answer-send-bye.xml');
  t.after(() => (ringing.kill(), answering.kill(), far.kill()));
  const answer = await api(server, 'xml', callXml({ dial_first: '101', dial_second: '15551234567', dial_as_account_id: '1101', auto_answer: '1' }));
  assert.match(answer.body, /<call_info /);
  const mr = await ok(ringing);
  assert.equal(received(mr, /^CANCEL /).length, 1);
  assert.match(received(mr, /^INVITE /)[0]!, /answer-after=0/, 'auto-answer goes to every phone of the extension');
  await ok(answering);
  await ok(far);
  await noLiveCalls();
});
