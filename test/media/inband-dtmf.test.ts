import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeG711, encodeG711 } from '../../src/media/g711.ts';
import { FrameScheduler } from '../../src/media/frame-scheduler.ts';
import { InbandDtmfDetector, listenForInbandDtmf } from '../../src/media/inband-dtmf.ts';
import { startPlayback } from '../../src/media/playback.ts';
import { RtpSession } from '../../src/media/rtp-session.ts';
import { renderTone, toneFrames } from '../../src/media/tones.ts';
import { loopbackAllocator } from './support/udp.ts';

const FREQUENCIES: Record<string, [number, number]> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], A: [697, 1633],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], B: [770, 1633],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], C: [852, 1633],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], D: [941, 1633],
};

/** Key presses of `onMs` with `offMs` pauses, through a G.711 law and back, as a phone line would carry them. */
function dial(keys: string, options: { onMs?: number; offMs?: number; levelDbm0?: number; codec?: 'PCMU' | 'PCMA' } = {}): Int16Array {
  const onMs = options.onMs ?? 80;
  const offMs = options.offMs ?? 80;
  const parts = [...keys].map((key) =>
    renderTone({ frequencies: FREQUENCIES[key] ?? [], cadenceMs: [onMs, offMs], levelDbm0: options.levelDbm0 ?? -10 }),
  );
  const pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    pcm.set(part, offset);
    offset += part.length;
  }
  const codec = options.codec ?? 'PCMU';
  return decodeG711(codec, encodeG711(codec, pcm));
}

function detect(pcm: Int16Array, chunk = 160): string {
  let digits = '';
  const detector = new InbandDtmfDetector((d) => {
    digits += d;
  });
  for (let i = 0; i < pcm.length; i += chunk) detector.process(pcm.subarray(i, i + chunk));
  return digits;
}

test('all sixteen keys through mu-law and A-law, fed in 20 ms frames', () => {
  const keys = '123A456B789C*0#D';
  assert.equal(detect(dial(keys)), keys);
  assert.equal(detect(dial(keys, { codec: 'PCMA' })), keys);
});

test('a held key is one digit; the same key pressed twice is two', () => {
  assert.equal(detect(dial('5', { onMs: 1000 })), '5');
  assert.equal(detect(dial('55')), '55');
});

test('quiet keys down to -25 dBm0 are heard; -40 dBm0 and too-short blips are not', () => {
  assert.equal(detect(dial('159', { levelDbm0: -25 })), '159');
  assert.equal(detect(dial('159', { levelDbm0: -40 })), '');
  assert.equal(detect(dial('159', { onMs: 20, offMs: 100 })), '');
});

test('ringback, busy tone and a single DTMF frequency are not digits', () => {
  const ringback = decodeG711('PCMU', toneFrames('PCMU').payload);
  assert.equal(detect(ringback), '');
  assert.equal(detect(renderTone({ frequencies: [480, 620], cadenceMs: [500, 500], levelDbm0: -10 })), '');
  assert.equal(detect(renderTone({ frequencies: [770], cadenceMs: [] })), '');
});

test('a key drowned in other sound (voice-band noise) is rejected by the purity check', () => {
  const key = dial('8', { onMs: 500, offMs: 20 });
  let seed = 12345;
  const noisy = key.map((sample) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return Math.max(-32768, Math.min(32767, sample + ((seed / 0x7fffffff) * 2 - 1) * 12000));
  });
  assert.equal(detect(key), '8');
  assert.equal(detect(noisy), '');
});

test('twist: the high tone 6 dB louder is accepted; 12 dB louder, or the low tone 6 dB louder, is not', () => {
  const mix = (rowDbm0: number, columnDbm0: number): Int16Array => {
    const row = renderTone({ frequencies: [852], cadenceMs: [], levelDbm0: rowDbm0 }).subarray(0, 1600);
    const column = renderTone({ frequencies: [1336], cadenceMs: [], levelDbm0: columnDbm0 }).subarray(0, 1600);
    return row.map((sample, i) => sample + (column[i] as number));
  };
  assert.equal(detect(mix(-16, -10)), '8');
  assert.equal(detect(mix(-22, -10)), '');
  assert.equal(detect(mix(-10, -16)), '');
});

test('listenForInbandDtmf hears a key a peer plays over RTP', async () => {
  const allocator = await loopbackAllocator();
  const listener = await RtpSession.open({ host: '127.0.0.1', allocator });
  const player = await RtpSession.open({ host: '127.0.0.1', allocator });
  try {
    const heard = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no digit heard within 3 s')), 3000);
      const stop = listenForInbandDtmf(listener, { 8: 'PCMA' }, (digit) => {
        clearTimeout(timer);
        stop();
        resolve(digit);
      });
    });
    const playing = startPlayback({
      session: player,
      codec: 'PCMA',
      payloadType: 8,
      prompt: dial('#', { onMs: 200, offMs: 20 }),
      remote: { address: '127.0.0.1', port: listener.localPort },
      scheduler: new FrameScheduler(),
    });
    assert.equal(await heard, '#');
    playing.stop();
  } finally {
    await Promise.all([listener.close(), player.close()]);
  }
});
