/**
 * A real softphone as the first party: baresip registers as extension 101 with auto-answer, answers the
 * late-offer INVITE, and records what it hears (the sndfile module dumps the decoded stream to a WAV file) while
 * the second party rings. The recording must carry the 440 + 480 Hz ringback tone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goertzelPower } from '../calls/goertzel.ts';
import { dumpSamples } from './baresip-dump.ts';
import { ACCOUNTS, api, callXml, sipp, startInProcess } from './harness.ts';

test('baresip as the first party hears ringback (440 + 480 Hz) while the second party rings', { timeout: 60_000 }, async (t) => {
  const server = await startInProcess();
  const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
  const dumps = join(dir, 'dumps');
  mkdirSync(dumps);
  const account = ACCOUNTS[0]!;
  const rtpBase = 42000 + Math.floor(Math.random() * 500) * 10;
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      // Port 0: baresip binds UDP and TCP on one port, and a port found free for one may be taken for the other.
      'sip_listen 127.0.0.1:0',
      'audio_player aubridge,bench',
      'audio_source aubridge,bench',
      'audio_alert aubridge,bench',
      `rtp_ports ${rtpBase}-${rtpBase + 9}`,
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aubridge.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      `snd_path ${dumps}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'accounts'),
    `<sip:${account.ext}@127.0.0.1:${server.ports.sip};transport=udp>;auth_pass=${account.sipPassword};answermode=auto;regint=300;audio_codecs=PCMU,PCMA\n`,
  );
  const phone = spawn('baresip', ['-f', dir, '-t', '40'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let phoneOut = '';
  phone.stdout.on('data', (d: Buffer) => (phoneOut += d.toString()));
  phone.stderr.on('data', (d: Buffer) => (phoneOut += d.toString()));
  const far = await sipp({ scenario: 'ring-cancelled.xml', port: server.ports.trunk, service: 'carrier', timeoutS: 30 });
  t.after(async () => {
    far.kill();
    if (phone.exitCode === null) {
      phone.kill('SIGKILL');
      await once(phone, 'exit');
    }
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const deadline = Date.now() + 10_000;
  while (!server.hasContacts!(account.id)) {
    assert.ok(Date.now() < deadline, `baresip did not register:\n${phoneOut}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const answer = await api(
    server,
    'xml',
    callXml({ dial_first: account.ext, dial_second: '15551234567', dial_as_account_id: account.id, auto_answer: '1', timeout_second_call: '3' }),
  );
  assert.match(answer.body, /<call_info /, `${answer.body}\n${phoneOut}`);
  // The second leg rings out after 3 s: CANCEL to it, BYE to baresip, whose dump then holds what it heard.
  const trunk = await far.done;
  assert.equal(trunk.code, 0, trunk.output);
  const ended = Date.now() + 10_000;
  while (server.engine!.originator.listCalls().length > 0) {
    assert.ok(Date.now() < ended, 'call did not end');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // baresip closes its dump files when the call ends; SIGTERM then quits it cleanly.
  phone.kill('SIGTERM');
  await once(phone, 'exit');
  const decoded = readdirSync(dumps).filter((f) => f.endsWith('-dec.wav'));
  assert.equal(decoded.length, 1, `dumps: ${readdirSync(dumps).join(', ')}\n${phoneOut}`);
  const { rate, samples } = dumpSamples(join(dumps, decoded[0]!));
  assert.equal(rate, 8000);
  // North American ringback is 2 s on, 4 s off: the first two seconds of what the phone heard are tone.
  const heard = samples.subarray(Math.floor(0.2 * rate), Math.floor(1.8 * rate));
  assert.ok(heard.length > rate, `only ${samples.length} samples recorded (${readdirSync(dumps).map((f) => `${f}`).join(', ')})\n${phoneOut}`);
  const tone = goertzelPower(heard, 440, rate) + goertzelPower(heard, 480, rate);
  const other = goertzelPower(heard, 350, rate) + goertzelPower(heard, 620, rate) + goertzelPower(heard, 1000, rate);
  assert.ok(tone > 50 * other, `440+480 Hz power ${tone.toExponential(2)} vs other tones ${other.toExponential(2)}`);
  assert.ok(tone > 1000, `ringback too quiet: ${tone}`);
});
