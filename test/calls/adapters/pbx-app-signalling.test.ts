import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PbxAppSignalling } from '../../../src/calls/adapters/pbx-app-signalling.ts';
import type { DialogSnapshot, DialRequest, DialTarget, ForkEvents, InviteSnapshot, LegSignalling } from '../../../src/calls/ports.ts';
import { parseConfig } from '../../../src/config/load-config.ts';
import { Directory } from '../../../src/directory/directory.ts';
import { listenForInbandDtmf } from '../../../src/media/inband-dtmf.ts';
import { createMediaEngine } from '../../../src/media/media-engine.ts';
import type { MediaEngine } from '../../../src/media/media-engine.ts';
import { startPlayback } from '../../../src/media/playback.ts';
import { RtpSession } from '../../../src/media/rtp-session.ts';
import { buildAnswer, buildOffer, remoteRtpEndpoint } from '../../../src/media/sdp.ts';
import { renderTone } from '../../../src/media/tones.ts';
import { decodeWav, wavSamples } from '../../../src/media/wav.ts';
import { openDatabase } from '../../../src/store/open-database.ts';
import { VoicemailStore } from '../../../src/store/voicemail-store.ts';
import { goertzelPower } from '../goertzel.ts';

const CONFIG = `
accounts:
  - { account_id: "1101", extension: "101", type: sip, display_name: "Alice", voicemail_max_seconds: 1 }
  - { account_id: "1102", extension: "102", type: sip, display_name: "Bob" }
  - { account_id: "1800", extension: "800", type: ivr, display_name: "Balance",
      ivr_variables: [ { id: 3, name: balance, default_value: "0" } ] }
  - { account_id: "1801", extension: "801", type: ivr, display_name: "Menu",
      ivr_variables: [ { id: 5, name: code, default_value: "7" } ],
      ivr_steps: [ { type: say_digits, value: "\${code}" }, { type: collect, variable: x, max_digits: 1, timeout_seconds: 30 } ] }
`;

/** Every call the decorator passes on, by method. */
class FakeInner implements LegSignalling {
  readonly calls: string[] = [];
  dial(request: DialRequest): void {
    this.calls.push(`dial ${request.forkId}`);
  }
  cancel(forkId: string): void {
    this.calls.push(`cancel ${forkId}`);
  }
  ack(forkId: string): void {
    this.calls.push(`ack ${forkId}`);
  }
  discard(forkId: string): void {
    this.calls.push(`discard ${forkId}`);
  }
  reinvite(forkId: string): void {
    this.calls.push(`reinvite ${forkId}`);
  }
  bye(forkId: string): void {
    this.calls.push(`bye ${forkId}`);
  }
  relay(first: string, second: string): void {
    this.calls.push(`relay ${first} ${second}`);
  }
  async byeDialog(dialog: DialogSnapshot): Promise<void> {
    this.calls.push(`byeDialog ${dialog.callId}`);
  }
  async cancelInvite(invite: InviteSnapshot): Promise<void> {
    this.calls.push(`cancelInvite ${invite.callId}`);
  }
}

type Event =
  | { type: 'answered'; sdp: string }
  | { type: 'failed'; status: number; reason: string }
  | { type: 'ended' }
  | { type: 'reinviteAnswered'; sdp: string }
  | { type: 'reinviteFailed'; status: number };

/** Fork events as a queue the test awaits one by one. */
class Recorder implements ForkEvents {
  private readonly queue: Event[] = [];
  private waiting: ((e: Event) => void) | undefined;
  sent(): void {}
  dialogChanged(): void {}
  progress(): void {}
  answered(sdp: string): void {
    this.push({ type: 'answered', sdp });
  }
  failed(status: number, reason: string): void {
    this.push({ type: 'failed', status, reason });
  }
  ended(): void {
    this.push({ type: 'ended' });
  }
  reinviteAnswered(sdp: string): void {
    this.push({ type: 'reinviteAnswered', sdp });
  }
  reinviteFailed(status: number): void {
    this.push({ type: 'reinviteFailed', status });
  }
  private push(e: Event): void {
    const w = this.waiting;
    this.waiting = undefined;
    if (w) w(e);
    else this.queue.push(e);
  }
  next(ms = 5000): Promise<Event> {
    const e = this.queue.shift();
    if (e) return Promise.resolve(e);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no fork event')), ms);
      this.waiting = (ev) => {
        clearTimeout(timer);
        resolve(ev);
      };
    });
  }
  get pending(): number {
    return this.queue.length;
  }
}

interface Setup {
  readonly pbx: PbxAppSignalling;
  readonly inner: FakeInner;
  readonly media: MediaEngine;
  readonly dataDir: string;
  readonly store: VoicemailStore;
}

async function setup(t: { after: (fn: () => Promise<void> | void) => void }): Promise<Setup> {
  const base = 40000 + Math.floor(Math.random() * 4000) * 4;
  const media = createMediaEngine({ rtp_host: '127.0.0.1', rtp_port_min: base, rtp_port_max: base + 40 });
  const directory = new Directory({ ...parseConfig(CONFIG, 'test'), sip: { realm: 'test', registrar: { min_expires: 60, max_expires: 3600, default_expires: 600, max_failures: 5, window_seconds: 60, lockout_seconds: 60 } } });
  const dataDir = mkdtempSync(join(tmpdir(), 'pbx-apps-'));
  const db = openDatabase(dataDir);
  const store = new VoicemailStore(db);
  const inner = new FakeInner();
  const pbx = new PbxAppSignalling(inner, { media, directory: () => directory, dataDir, voicemail: store, logger: pino({ level: 'silent' }) });
  t.after(async () => {
    await pbx.settled();
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { pbx, inner, media, dataDir, store };
}

function request(forkId: string, target: DialTarget, variables: DialRequest['variables'] = []): DialRequest {
  return { forkId, callId: `call-${forkId}`, target, callerId: { name: 'Caller', number: '15550001111', external: '' }, autoAnswer: false, variables };
}

const IVR_800: DialTarget = { kind: 'pbx', app: 'ivr', accountId: '1800', extension: '800' };

/** A phone's RTP session answering (or offering to) the PBX app. */
async function phone(media: MediaEngine, t: { after: (fn: () => Promise<void>) => void }): Promise<RtpSession> {
  const session = await media.openSession();
  t.after(() => session.close());
  return session;
}

test('targets other than pbx, and byeDialog, go to the inner signalling untouched', async (t) => {
  const { pbx, inner } = await setup(t);
  const events = new Recorder();
  pbx.dial(request('f1', { kind: 'trunk', attempt: { trunk: 'carrier', number: '1555', rule: 'r', isFinal: true } }), events);
  pbx.cancel('f1');
  pbx.ack('f1', 'sdp');
  pbx.reinvite('f1', 'sdp');
  pbx.discard('f1');
  pbx.bye('f1');
  await pbx.byeDialog({ callId: 'c9' } as DialogSnapshot);
  assert.deepEqual(inner.calls, ['dial f1', 'cancel f1', 'ack f1', 'reinvite f1', 'discard f1', 'bye f1', 'byeDialog c9']);
  assert.equal(pbx.size, 0);
});

test('IVR as leg 2: answers with an offer at once; after the ACK the phone hears 3, 0, 0 and the IVR hangs up', async (t) => {
  const { pbx, inner, media } = await setup(t);
  const events = new Recorder();
  pbx.dial(request('f2', IVR_800, [{ name: 'balance', value: '300' }]), events);
  const answered = await events.next();
  assert.equal(answered.type, 'answered');
  const offer = (answered as { sdp: string }).sdp;
  assert.match(offer, /m=audio \d+ RTP\/AVP 0 8 101/);
  assert.deepEqual(inner.calls, []);
  const caller = await phone(media, t);
  const heard: string[] = [];
  listenForInbandDtmf(caller, { 8: 'PCMA' }, (d) => heard.push(d));
  // The first party's answer (from its re-INVITE) in PCMA, which the IVR must then send.
  const answer = buildAnswer(offer, { host: '127.0.0.1', port: caller.localPort, supported: ['PCMA'] });
  caller.setRemote(answer.remote);
  pbx.ack('f2', answer.sdp);
  assert.deepEqual(await events.next(), { type: 'ended' });
  assert.deepEqual(heard, ['3', '0', '0']);
  assert.equal(pbx.size, 0);
  await pbx.settled();
});

test('IVR as leg 1: the ringback answer in the ACK, then the second party\'s offer in a re-INVITE retargets the IVR', async (t) => {
  const { pbx, media } = await setup(t);
  const events = new Recorder();
  pbx.dial(request('f3', { kind: 'pbx', app: 'ivr', accountId: '1801', extension: '801' }), events);
  const offer = ((await events.next()) as { sdp: string }).sdp;
  const ringback = await phone(media, t);
  pbx.ack('f3', buildAnswer(offer, { host: '127.0.0.1', port: ringback.localPort }).sdp);
  const second = await phone(media, t);
  const heard: string[] = [];
  listenForInbandDtmf(second, { 0: 'PCMU' }, (d) => heard.push(d));
  const gotDigit = new Promise<void>((resolve) => listenForInbandDtmf(second, { 0: 'PCMU' }, () => resolve()));
  pbx.reinvite('f3', buildOffer({ host: '127.0.0.1', port: second.localPort, codecs: ['PCMU'] }));
  const re = await events.next();
  assert.equal(re.type, 'reinviteAnswered');
  const ours = remoteRtpEndpoint((re as { sdp: string }).sdp);
  assert.ok(ours);
  second.setRemote(ours);
  await gotDigit;
  assert.deepEqual(heard, ['7']);
  // The script now waits in collect: the machine's BYE stops it, with no event back.
  pbx.bye('f3');
  await pbx.settled();
  assert.equal(pbx.size, 0);
  assert.equal(events.pending, 0);
  pbx.reinvite('f3', 'v=0');
});

test('refusals: no such account is a 503; a re-INVITE without audio in common is a 488; cancel while binding is a 487', async (t) => {
  const { pbx } = await setup(t);
  const events = new Recorder();
  pbx.dial(request('f4', { kind: 'pbx', app: 'ivr', accountId: '1999', extension: '999' }), events);
  const failed = await events.next();
  assert.equal(failed.type, 'failed');
  assert.equal((failed as { status: number }).status, 503);
  const notIvr = new Recorder();
  pbx.dial(request('f5', { kind: 'pbx', app: 'ivr', accountId: '1102', extension: '102' }), notIvr);
  assert.equal(((await notIvr.next()) as { status: number }).status, 503);

  const cancelled = new Recorder();
  pbx.dial(request('f6', IVR_800), cancelled);
  pbx.cancel('f6');
  assert.deepEqual(await cancelled.next(), { type: 'failed', status: 487, reason: 'cancelled' });

  const live = new Recorder();
  pbx.dial(request('f7', IVR_800), live);
  await live.next();
  const video = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';
  pbx.reinvite('f7', video);
  assert.deepEqual(await live.next(), { type: 'reinviteFailed', status: 488 });
  pbx.discard('f7');
  await pbx.settled();
  assert.equal(pbx.size, 0);
});

async function leaveMessage(s: Setup, t: { after: (fn: () => Promise<void>) => void }, forkId: string, events: Recorder): Promise<RtpSession> {
  s.pbx.dial(request(forkId, { kind: 'pbx', app: 'voicemail', accountId: '1101', extension: '101' }), events);
  const offer = ((await events.next()) as { sdp: string }).sdp;
  const caller = await phone(s.media, t);
  const answer = buildAnswer(offer, { host: '127.0.0.1', port: caller.localPort, supported: ['PCMU'] });
  caller.setRemote(answer.remote);
  const beepHeard = new Promise<void>((resolve) => caller.onPacket(() => resolve()));
  s.pbx.ack(forkId, answer.sdp);
  await beepHeard;
  // The caller speaks: 440 Hz, sent once the beep is under way.
  startPlayback({ session: caller, codec: 'PCMU', payloadType: 0, prompt: renderTone({ frequencies: [440], cadenceMs: [], levelDbm0: -10 }), loop: true });
  return caller;
}

function assertMessage(s: Setup, minMs: number, maxMs: number): void {
  const messages = s.store.list('1101');
  assert.equal(messages.length, 1);
  const m = messages[0]!;
  assert.match(m.path, /^voicemail\/101\/\d{8}T\d{9}Z-call-f\d\.wav$/);
  assert.equal(m.callerName, 'Caller');
  assert.ok(m.durationMs >= minMs && m.durationMs <= maxMs, `duration ${m.durationMs} ms`);
  const file = join(s.dataDir, m.path);
  assert.ok(existsSync(file));
  const samples = wavSamples(decodeWav(readFileSync(file)));
  const middle = samples.subarray(Math.floor(samples.length / 4), Math.floor((samples.length * 3) / 4));
  assert.ok(goertzelPower(middle, 440, 8000) > 100 * goertzelPower(middle, 1000, 8000), 'the recording holds the caller\'s 440 Hz');
}

test('voicemail: a beep, the caller recorded to a WAV under the data folder until the BYE, one store row', async (t) => {
  const s = await setup(t);
  const events = new Recorder();
  await leaveMessage(s, t, 'f8', events);
  // The caller talks for a second (over the half-second beep, which is recorded too), then hangs up.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  s.pbx.bye('f8');
  await s.pbx.settled();
  assertMessage(s, 700, 1300);
  assert.equal(events.pending, 0);
});

test('voicemail: at the account\'s voicemail_max_seconds the PBX hangs up and keeps the message', async (t) => {
  const s = await setup(t);
  const events = new Recorder();
  await leaveMessage(s, t, 'f9', events);
  assert.deepEqual(await events.next(4000), { type: 'ended' });
  await s.pbx.settled();
  // The beep, then the account's 1 s.
  assertMessage(s, 1300, 1700);
});
