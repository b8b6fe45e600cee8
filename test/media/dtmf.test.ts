import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  digitToEvent,
  DtmfError,
  DtmfReceiver,
  eventToDigit,
  listenForDtmf,
  parseTelephoneEvents,
  sendDtmf,
  writeTelephoneEvent,
} from '../../src/media/dtmf.ts';
import type { ReceivedDigit, TelephoneEvent } from '../../src/media/dtmf.ts';
import { FrameScheduler } from '../../src/media/frame-scheduler.ts';
import { parseRtpPacket } from '../../src/media/rtp-packet.ts';
import type { RtpPacket } from '../../src/media/rtp-packet.ts';
import { RtpSession } from '../../src/media/rtp-session.ts';
import { ManualClock } from './support/manual-clock.ts';
import { bindLoopback, closeSocket, loopbackAllocator, receiveDatagrams } from './support/udp.ts';

/** Catch up on any stall a loaded machine causes: the checks below want every frame, none dropped. */
const NO_DROP = 50;

const PT = 101;

function eventPacket(timestamp: number, blocks: TelephoneEvent[], sequenceNumber = 0): RtpPacket {
  const payload = Buffer.alloc(blocks.length * 4);
  blocks.forEach((block, i) => writeTelephoneEvent(payload, i * 4, block));
  return { marker: false, padding: false, payloadType: PT, sequenceNumber, timestamp, ssrc: 7, csrcs: [], payload };
}

/** What a phone sends for one key press (RFC 4733 §2.5): growing durations, then the end packet three times. */
function keyPress(event: number, timestamp: number, packets = 5): RtpPacket[] {
  const sent: RtpPacket[] = [];
  for (let i = 1; i <= packets; i++) sent.push(eventPacket(timestamp, [{ event, end: false, volume: 10, duration: i * 160 }]));
  for (let i = 0; i < 3; i++) {
    sent.push(eventPacket(timestamp, [{ event, end: true, volume: 10, duration: (packets + 1) * 160 }]));
  }
  return sent;
}

function collect(): { receiver: DtmfReceiver; digits: ReceivedDigit[] } {
  const digits: ReceivedDigit[] = [];
  return { receiver: new DtmfReceiver(PT, (d) => digits.push(d)), digits };
}

test('event codes map to 0-9 * # A-D and flash', () => {
  assert.equal([...Array(17).keys()].map((e) => eventToDigit(e)).join(''), '0123456789*#ABCD!');
  assert.equal(eventToDigit(17), undefined);
  assert.equal(digitToEvent('#'), 11);
  assert.equal(digitToEvent('d'), 15);
  assert.throws(() => digitToEvent('x'), DtmfError);
  assert.throws(() => digitToEvent('12'), DtmfError);
});

test('parse the event block: event, end bit, volume, duration', () => {
  assert.deepEqual(parseTelephoneEvents(Buffer.from([0x05, 0x8a, 0x03, 0x20])), [
    { event: 5, end: true, volume: 10, duration: 800 },
  ]);
  assert.throws(() => parseTelephoneEvents(Buffer.from([1, 2, 3])), DtmfError);
  assert.throws(() => parseTelephoneEvents(Buffer.alloc(0)), DtmfError);
});

test('a key press with its three end packets is one digit, with its duration', () => {
  const { receiver, digits } = collect();
  for (const packet of [...keyPress(1, 8000), ...keyPress(11, 9600), ...keyPress(1, 11200)]) receiver.receive(packet);
  assert.deepEqual(
    digits.map((d) => [d.digit, d.duration, d.timestamp]),
    [
      ['1', 960, 8000],
      ['#', 960, 9600],
      ['1', 960, 11200],
    ],
    'the same digit pressed twice is two digits',
  );
});

test('when every end packet is lost, the digit comes with the next event, or on flush', () => {
  const { receiver, digits } = collect();
  for (const packet of keyPress(4, 1000).slice(0, 5)) receiver.receive(packet);
  assert.equal(digits.length, 0);
  for (const packet of keyPress(2, 3000).slice(0, 5)) receiver.receive(packet);
  assert.deepEqual(
    digits.map((d) => d.digit),
    ['4'],
  );
  receiver.flush();
  receiver.flush();
  assert.deepEqual(
    digits.map((d) => d.digit),
    ['4', '2'],
  );
});

test('end packets arriving after the digit was reported (late, duplicated) do not repeat it', () => {
  const { receiver, digits } = collect();
  const press = keyPress(9, 5000);
  const end = press.at(-1) as RtpPacket;
  for (const packet of [...press.slice(0, 5), end, press[2] as RtpPacket, end, end]) receiver.receive(packet);
  assert.deepEqual(
    digits.map((d) => d.digit),
    ['9'],
  );
});

test('several events packed in one packet (RFC 4733 §2.5.1.5) are each reported once', () => {
  const { receiver, digits } = collect();
  receiver.receive(
    eventPacket(16000, [
      { event: 7, end: true, volume: 10, duration: 800 },
      { event: 8, end: true, volume: 10, duration: 800 },
      { event: 9, end: false, volume: 10, duration: 320 },
    ]),
  );
  receiver.receive(
    eventPacket(16000, [
      { event: 7, end: true, volume: 10, duration: 800 },
      { event: 8, end: true, volume: 10, duration: 800 },
      { event: 9, end: true, volume: 10, duration: 800 },
    ]),
  );
  assert.deepEqual(
    digits.map((d) => [d.digit, d.timestamp]),
    [
      ['7', 16000],
      ['8', 16800],
      ['9', 17600],
    ],
  );
});

test('packets of other payload types are ignored; malformed payloads are counted, not thrown', () => {
  const { receiver, digits } = collect();
  receiver.receive({ ...(keyPress(3, 0).at(-1) as RtpPacket), payloadType: 0 });
  receiver.receive({ ...(keyPress(3, 0).at(-1) as RtpPacket), payload: Buffer.from([1, 2, 3]) });
  assert.equal(digits.length, 0);
  assert.equal(receiver.malformed, 1);
});

test('sendDtmf over UDP: marker on the first packet, one timestamp, growing duration, end sent three times', async () => {
  const allocator = await loopbackAllocator();
  const phone = await bindLoopback();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator, remote: { address: '127.0.0.1', port: phone.port } });
  const scheduler = new FrameScheduler({ maxBurst: NO_DROP });
  try {
    const received = receiveDatagrams(phone.socket, 7);
    await sendDtmf({ session, payloadType: PT, digit: '#', durationMs: 100, scheduler });
    assert.equal(scheduler.size, 0);
    const packets = (await received).map(({ data }) => parseRtpPacket(data));
    assert.deepEqual(
      packets.map((p) => p.marker),
      [true, false, false, false, false, false, false],
    );
    assert.equal(new Set(packets.map((p) => p.timestamp)).size, 1);
    const events = packets.map((p) => parseTelephoneEvents(p.payload)[0]);
    assert.deepEqual(
      events.map((e) => [e?.event, e?.end, e?.duration]),
      [
        [11, false, 160],
        [11, false, 320],
        [11, false, 480],
        [11, false, 640],
        [11, true, 800],
        [11, true, 800],
        [11, true, 800],
      ],
    );
    const { receiver, digits } = collect();
    for (const packet of packets) receiver.receive(packet);
    assert.deepEqual(
      digits.map((d) => [d.digit, d.duration]),
      [['#', 800]],
    );
  } finally {
    await session.close();
    await closeSocket(phone.socket);
  }
});

test('listenForDtmf: digits sent by one session are heard by another, once each', async () => {
  const allocator = await loopbackAllocator();
  const caller = await RtpSession.open({ host: '127.0.0.1', allocator });
  const ivr = await RtpSession.open({ host: '127.0.0.1', allocator });
  const scheduler = new FrameScheduler();
  const heard: string[] = [];
  let threeHeard: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`heard ${heard.join('')} within 3 s`)), 3000);
    threeHeard = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const stop = listenForDtmf(ivr, PT, (d) => {
    heard.push(d.digit);
    if (heard.length === 3) threeHeard();
  });
  try {
    caller.setRemote({ address: '127.0.0.1', port: ivr.localPort });
    for (const digit of '4*2') await sendDtmf({ session: caller, payloadType: PT, digit, durationMs: 60, scheduler });
    await done;
    assert.deepEqual(heard, ['4', '*', '2']);
  } finally {
    stop();
    await Promise.all([caller.close(), ivr.close()]);
  }
});

test('sendDtmf after a stall: the event keeps its start timestamp and the first packet sent has the marker', async () => {
  const allocator = await loopbackAllocator();
  const phone = await bindLoopback();
  const session = await RtpSession.open({ host: '127.0.0.1', allocator, remote: { address: '127.0.0.1', port: phone.port } });
  const clock = new ManualClock();
  const scheduler = new FrameScheduler({ clock, maxBurst: 2 });
  try {
    const received = receiveDatagrams(phone.socket, 4);
    const sent = sendDtmf({ session, payloadType: PT, digit: '5', durationMs: 100, scheduler });
    // The event's first tick is tick 0 (the clock starts on the grid); 90 ms pass before the timer runs.
    clock.stall(90);
    clock.fireDue();
    clock.advance(100);
    await sent;
    const packets = (await received).map(({ data }) => parseRtpPacket(data));
    assert.deepEqual(
      packets.map((p) => [p.marker, p.timestamp]),
      [
        [true, session.timestampBase],
        [false, session.timestampBase],
        [false, session.timestampBase],
        [false, session.timestampBase],
      ],
    );
    assert.deepEqual(
      packets.map((p) => {
        const event = parseTelephoneEvents(p.payload)[0];
        return [event?.duration, event?.end];
      }),
      [
        [640, false],
        [800, true],
        [800, true],
        [800, true],
      ],
    );
  } finally {
    await session.close();
    await closeSocket(phone.socket);
  }
});
