/**
 * The PBX's own apps on the real server, heard by a real softphone. baresip registers, auto-answers the
 * late-offer INVITE and dumps what it hears (sndfile module) to a WAV file; it speaks a 440 Hz sine (ausine).
 *
 * - The seed page's example: dial_second is the IVR 800 with balance=300; the phone must hear the digits 3, 0, 0
 *   (in-band DTMF, decoded from its dump) before the IVR hangs up.
 * - Voicemail: extension 101's call rules end in voicemail; the phone calling it leaves a message, a WAV under
 *   the data folder holding the phone's 440 Hz, with its row in the store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { pino } from 'pino';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { InbandDtmfDetector } from '../../src/media/inband-dtmf.ts';
import { decodeWav, wavSamples } from '../../src/media/wav.ts';
import { goertzelPower } from '../calls/goertzel.ts';
import { decodedDump, dumpSamples, startPhone } from './baresip.ts';
import { ACCOUNTS, api, callXml, configYaml, freeUdpPort, type RunningServer, sipp, startInProcess, untilRegisteredOn } from './harness.ts';
import { noLiveCalls } from '../calls/until-calls.ts';

function callsEnded(server: RunningServer): Promise<void> {
  return noLiveCalls(server.engine!.originator, 15_000);
}

test('the seed example: dial_second 800 with balance=300; baresip hears 3, 0, 0 and the IVR hangs up', { timeout: 60_000 }, async (t) => {
  const server = await startInProcess();
  t.after(() => server.stop());
  const account = ACCOUNTS[0]!;
  const phone = await startPhone(server, account, t, { speaks440: true });
  const answer = await api(
    server,
    'xml',
    callXml({ dial_first: account.ext, dial_second: '800', dial_as_account_id: account.id, auto_answer: '1', variables: ['balance=300'] }),
  );
  assert.match(answer.body, /<call_info dialed_first="101" dialed_second="800"/, `${answer.body}\n${phone.output()}`);
  assert.match(answer.body, /<ivr_variable id="3" name="balance" status="exists"\s*\/>/);
  // The IVR says the balance, then hangs up: the PBX BYEs the phone and the call ends with nobody touching it.
  await callsEnded(server);
  const [record] = server.engine!.records.listOpen();
  assert.equal(record, undefined);
  await phone.quit();
  const { rate, samples } = dumpSamples(decodedDump(phone));
  assert.equal(rate, 8000);
  const heard: string[] = [];
  const detector = new InbandDtmfDetector((d) => heard.push(d));
  for (let i = 0; i < samples.length; i += 160) detector.process(samples.subarray(i, i + 160));
  assert.deepEqual(heard, ['3', '0', '0'], `heard ${heard.join(',')} in ${samples.length} samples\n${phone.output()}`);
});

/** The harness's server in process, with 101 sent straight to voicemail (at most `maxSeconds`). */
async function startVoicemailServer(
  t: { after: (fn: () => Promise<void>) => void },
  maxSeconds: number,
  trunkPort?: number,
): Promise<{ server: RunningServer; dataDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'originate-e2e-vm-'));
  const rtpMin = 30000 + Math.floor(Math.random() * 60) * 500;
  const yaml = configYaml({ https: 0, sip: 0, trunk: trunkPort ?? (await freeUdpPort()), trunk2: await freeUdpPort(), rtpMin }).replace(
    /(account_id: "1101"[^\n]*?<<: \*api_settings) \}/,
    `$1, call_rules: [ { type: voicemail } ], voicemail_max_seconds: ${maxSeconds} }`,
  );
  assert.match(yaml, /type: voicemail/);
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, yaml);
  const dataDir = join(dir, 'data');
  const app = await buildApp(loadConfig(configPath), { dataDir, logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'silent' }) });
  const sip = app.sip!;
  const addresses = await app.listen();
  let closing: Promise<void> | undefined;
  const server: RunningServer = {
    ports: { https: addresses.https!.port, sip: sip.transport.localEndpoint('udp').port, trunk: 0, trunk2: 0, rtpMin },
    dir,
    output: () => '',
    engine: sip.engine,
    untilRegistered: untilRegisteredOn(sip.directory),
    stop() {
      closing ??= app.close();
      return closing;
    },
  };
  t.after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { server, dataDir };
}

/** The one voicemail row and file of 101, once the row is written (after the call ended). */
async function message101(dataDir: string, t: { after: (fn: () => void) => void }): Promise<{ file: string; durationMs: number }> {
  const folder = join(dataDir, 'voicemail', '101');
  const files = readdirSync(folder);
  assert.equal(files.length, 1, files.join(', '));
  const db = new BetterSqlite3(join(dataDir, 'originate.sqlite'), { readonly: true });
  t.after(() => db.close());
  const deadline = Date.now() + 5000;
  let rows: { path: string; duration_ms: number; account_id: string }[] = [];
  for (;;) {
    rows = db.prepare('SELECT path, duration_ms, account_id FROM voicemail_messages').all() as typeof rows;
    if (rows.length > 0) break;
    assert.ok(Date.now() < deadline, 'no voicemail row');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.account_id, '1101');
  assert.equal(rows[0]!.path, join('voicemail', '101', files[0]!));
  return { file: join(folder, files[0]!), durationMs: rows[0]!.duration_ms };
}

test('voicemail: a call to 101, whose call rules end in voicemail, leaves a WAV of the caller\'s 440 Hz and a store row', { timeout: 60_000 }, async (t) => {
  const { server, dataDir } = await startVoicemailServer(t, 2);
  const caller = ACCOUNTS[1]!;
  const phone = await startPhone(server, caller, t, { speaks440: true });
  const answer = await api(
    server,
    'xml',
    callXml({ dial_first: caller.ext, dial_second: '101', dial_as_account_id: caller.id, auto_answer: '1' }),
  );
  assert.match(answer.body, /<call_info /, `${answer.body}\n${phone.output()}`);
  // 2 s after the beep the PBX hangs up on the message (recorded from the answer: beep + 2 s).
  await callsEnded(server);
  await phone.quit();
  const { file, durationMs } = await message101(dataDir, t);
  assert.ok(durationMs >= 2000 && durationMs <= 3000, `duration ${durationMs} ms`);
  const samples = wavSamples(decodeWav(readFileSync(file)));
  const middle = samples.subarray(Math.floor(samples.length / 4), Math.floor((samples.length * 3) / 4));
  const tone = goertzelPower(middle, 440, 8000);
  assert.ok(tone > 1000, `440 Hz too weak in the message: ${tone}`);
  assert.ok(tone > 50 * (goertzelPower(middle, 1000, 8000) + goertzelPower(middle, 620, 8000)), 'the message is the caller\'s 440 Hz');
});

test('no phone at all: 101\'s voicemail answers the first leg, the IVR on 800 the second, and the message holds 3, 0, 0', { timeout: 60_000 }, async (t) => {
  const { server, dataDir } = await startVoicemailServer(t, 20);
  const account = ACCOUNTS[0]!;
  const answer = await api(
    server,
    'xml',
    callXml({ dial_first: account.ext, dial_second: '800', dial_as_account_id: account.id, variables: ['balance=300'] }),
  );
  assert.match(answer.body, /<ivr_variable id="3" name="balance" status="exists"\s*\/>/, answer.body);
  // The IVR says the balance into the voicemail and hangs up; the PBX then ends the voicemail leg too.
  await callsEnded(server);
  const { file, durationMs } = await message101(dataDir, t);
  assert.ok(durationMs < 10_000, `the IVR's hang-up ended the message, not its max length (${durationMs} ms)`);
  const samples = wavSamples(decodeWav(readFileSync(file)));
  const heard: string[] = [];
  const detector = new InbandDtmfDetector((d) => heard.push(d));
  for (let i = 0; i < samples.length; i += 160) detector.process(samples.subarray(i, i + 160));
  assert.deepEqual(heard, ['3', '0', '0']);
});

test('shutdown while 101\'s voicemail records the first party: the message keeps its file and its store row', { timeout: 60_000 }, async (t) => {
  const trunk = await sipp({ scenario: 'ring-cancelled.xml', port: await freeUdpPort(), service: 'carrier', timeoutS: 30 });
  t.after(() => trunk.kill());
  const { server, dataDir } = await startVoicemailServer(t, 20, trunk.port);
  const account = ACCOUNTS[0]!;
  const answer = await api(server, 'xml', callXml({ dial_first: account.ext, dial_second: '15551234567', dial_as_account_id: account.id }));
  assert.match(answer.body, /<call_info /, answer.body);
  // The voicemail answered leg 1 and records the ringback while the carrier rings; once its file holds more
  // than the half-second beep (16-bit, 8 kHz: 8,000 bytes) the recording is a message.
  const folder = join(dataDir, 'voicemail', '101');
  const recorded = (): number => (existsSync(folder) ? readdirSync(folder).reduce((n, f) => n + statSync(join(folder, f)).size, 0) : 0);
  const deadline = Date.now() + 8000;
  while (recorded() < 44 + 12_000) {
    assert.ok(Date.now() < deadline, `recording too short: ${recorded()} bytes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await server.stop();
  const { durationMs } = await message101(dataDir, t);
  assert.ok(durationMs < 20_000, `${durationMs} ms`);
});
