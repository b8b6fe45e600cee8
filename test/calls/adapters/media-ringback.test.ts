import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createMediaEngine } from '../../../src/media/media-engine.ts';
import { decodeG711 } from '../../../src/media/g711.ts';
import { parseRtpPacket } from '../../../src/media/rtp-packet.ts';
import { MediaRingback } from '../../../src/calls/adapters/media-ringback.ts';
import { goertzelPower } from '../goertzel.ts';

test('ringback answers the phone offer in its preferred codec and sends 440+480 Hz from our RTP port', async (t) => {
  const phone = createSocket('udp4');
  phone.bind(0, '127.0.0.1');
  await once(phone, 'listening');
  t.after(() => phone.close());
  const phonePort = phone.address().port;
  const offer = [
    'v=0',
    'o=phone 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${phonePort} RTP/AVP 8 0 101`,
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    '',
  ].join('\r\n');
  // A random range slice keeps parallel test files off each other's ports; EADDRINUSE moves on anyway.
  const base = 40000 + Math.floor(Math.random() * 10000) * 2;
  const ringback = new MediaRingback(createMediaEngine({ rtp_host: '127.0.0.1', rtp_port_min: base, rtp_port_max: base + 100 }));
  const packets: Buffer[] = [];
  const enough = new Promise<void>((resolve) => {
    phone.on('message', (data) => {
      packets.push(data);
      if (packets.length === 25) resolve();
    });
  });
  const answer = await ringback.start('call-1', offer);
  const port = Number(/m=audio (\d+) RTP\/AVP 8\b/.exec(answer)?.[1]);
  assert.ok(port >= base && port <= base + 100, answer);
  await Promise.race([enough, new Promise((_, reject) => setTimeout(() => reject(new Error('no ringback RTP within 3 s')), 3000).unref())]);
  ringback.stop('call-1');
  assert.equal(ringback.size, 0);
  t.after(() => ringback.close());
  // The next call reuses the idle session instead of binding a new port.
  const again = await ringback.start('call-2', offer);
  assert.equal(Number(/m=audio (\d+) /.exec(again)?.[1]), port);
  ringback.stop('call-2');
  const rtp = packets.map((p) => parseRtpPacket(p));
  assert.ok(rtp.every((p) => p.payloadType === 8));
  const samples = decodeG711('PCMA', Buffer.concat(rtp.map((p) => p.payload)));
  const tone = goertzelPower(samples, 440) + goertzelPower(samples, 480);
  const off = goertzelPower(samples, 1000) + goertzelPower(samples, 300);
  assert.ok(tone > 100 * off, `tone ${tone} vs off-tone ${off}`);
});
