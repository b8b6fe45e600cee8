/** A real softphone for end-to-end tests: baresip registers, auto-answers, and dumps what it hears to WAV files. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { E2eAccount, RunningServer } from './harness.ts';
import { decodeWav, wavSamples } from '../../src/media/wav.ts';

/** 16-bit PCM samples of a baresip dump (first channel); a dump cut short keeps a zero size in its header. */
export function dumpSamples(file: string): { rate: number; samples: Int16Array } {
  const audio = decodeWav(readFileSync(file));
  const all = wavSamples(audio);
  const channels = Math.max(1, audio.channels);
  const mono = new Int16Array(Math.floor(all.length / channels));
  for (let i = 0; i < mono.length; i++) mono[i] = all[i * channels]!;
  return { rate: audio.sampleRate, samples: mono };
}

export interface Phone {
  readonly dumps: string;
  readonly output: () => string;
  /** Quits baresip cleanly, so its dump files are complete. */
  quit(): Promise<void>;
}

/**
 * baresip registered as `account`, auto-answering, dumping what it hears; it speaks a 440 Hz sine when `speaks440`,
 * else nothing.
 */
export async function startPhone(
  server: RunningServer,
  account: E2eAccount,
  t: { after: (fn: () => Promise<void>) => void },
  opts: { speaks440: boolean },
): Promise<Phone> {
  const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
  const dumps = join(dir, 'dumps');
  mkdirSync(dumps);
  const rtpBase = 42000 + Math.floor(Math.random() * 500) * 10;
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      // Port 0: baresip binds UDP and TCP on one port, and a port found free for one may be taken for the other.
      'sip_listen 127.0.0.1:0',
      'audio_player aubridge,phone',
      ...(opts.speaks440
        ? // ausine makes 48 kHz stereo only; baresip resamples to the codec's 8 kHz mono.
          ['audio_source ausine,440', 'ausrc_srate 48000', 'ausrc_channels 2']
        : ['audio_source aubridge,phone']),
      'audio_alert aubridge,phone',
      `rtp_ports ${rtpBase}-${rtpBase + 9}`,
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aubridge.so',
      ...(opts.speaks440 ? ['module ausine.so'] : []),
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
  const child: ChildProcess = spawn('baresip', ['-f', dir, '-t', '40'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const quit = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await server.untilRegistered!(account.id, 10_000).catch((err: Error) => {
    throw new Error(`baresip did not register: ${err.message}\n${out}`);
  });
  return { dumps, output: () => out, quit };
}

/** The file of what the phone heard in its one call. */
export function decodedDump(phone: Phone): string {
  const decoded = readdirSync(phone.dumps).filter((f) => f.endsWith('-dec.wav'));
  assert.equal(decoded.length, 1, `dumps: ${readdirSync(phone.dumps).join(', ')}\n${phone.output()}`);
  return join(phone.dumps, decoded[0]!);
}
