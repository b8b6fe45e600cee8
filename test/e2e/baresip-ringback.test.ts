/**
 * A real softphone as the first party: baresip registers as extension 101 with auto-answer, answers the
 * late-offer INVITE, and records what it hears (the sndfile module dumps the decoded stream to a WAV file) while
 * the second party rings. The recording must carry the 440 + 480 Hz ringback tone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goertzelPower } from '../calls/goertzel.ts';
import { decodedDump, dumpSamples, startPhone } from './baresip.ts';
import { ACCOUNTS, api, callXml, sipp, startInProcess } from './harness.ts';
import { noLiveCalls } from '../calls/until-calls.ts';

test('baresip as the first party hears ringback (440 + 480 Hz) while the second party rings', { timeout: 60_000 }, async (t) => {
  const server = await startInProcess();
  t.after(() => server.stop());
  const account = ACCOUNTS[0]!;
  const phone = await startPhone(server, account, t, { speaks440: false });
  const far = await sipp({ scenario: 'ring-cancelled.xml', port: server.ports.trunk, service: 'carrier', timeoutS: 30 });
  t.after(() => far.kill());
  const answer = await api(
    server,
    'xml',
    callXml({ dial_first: account.ext, dial_second: '15551234567', dial_as_account_id: account.id, auto_answer: '1', timeout_second_call: '3' }),
  );
  assert.match(answer.body, /<call_info /, `${answer.body}\n${phone.output()}`);
  // The second leg rings out after 3 s: CANCEL to it, BYE to baresip, whose dump then holds what it heard.
  const trunk = await far.done;
  assert.equal(trunk.code, 0, trunk.output);
  await noLiveCalls(server.engine!.originator, 10_000);
  // baresip closes its dump files when the call ends; SIGTERM then quits it cleanly.
  await phone.quit();
  const { rate, samples } = dumpSamples(decodedDump(phone));
  assert.equal(rate, 8000);
  // North American ringback is 2 s on, 4 s off: the first two seconds of what the phone heard are tone.
  const heard = samples.subarray(Math.floor(0.2 * rate), Math.floor(1.8 * rate));
  assert.ok(heard.length > rate, `only ${samples.length} samples recorded\n${phone.output()}`);
  const tone = goertzelPower(heard, 440, rate) + goertzelPower(heard, 480, rate);
  const other = goertzelPower(heard, 350, rate) + goertzelPower(heard, 620, rate) + goertzelPower(heard, 1000, rate);
  assert.ok(tone > 50 * other, `440+480 Hz power ${tone.toExponential(2)} vs other tones ${other.toExponential(2)}`);
  assert.ok(tone > 1000, `ringback too quiet: ${tone}`);
});
