// Mutated torture messages: parseMessage, StreamFramer and checkRequest never throw, and whatever parseMessage
// accepts can be read by the transaction layer (top Via, From, To, Call-ID, CSeq) without an exception.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError, StreamFramer, checkRequest, parseMessage } from '../../../src/sip/message/index.ts';
import { prng } from './mutations.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/rfc4475');
const SEEDS = ['valid', 'other'].flatMap((d) => readdirSync(join(FIXTURES, d)).map((f) => readFileSync(join(FIXTURES, d, f))));
const INTERESTING = [0, 9, 10, 13, 32, 34, 44, 58, 59, 60, 62, 64, 92, 0x80, 0xc3, 0xff].concat([...'%=?<>@:;,"\\'].map((c) => c.charCodeAt(0)));

function mutate(seed: Buffer, rand: () => number): Buffer {
  const out = Buffer.from(seed);
  const edits = 1 + Math.floor(rand() * 4);
  let data = out;
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * data.length);
    const kind = rand();
    if (kind < 0.5) {
      data[at] = INTERESTING[Math.floor(rand() * INTERESTING.length)] as number;
    } else if (kind < 0.75) {
      data = Buffer.concat([data.subarray(0, at), data.subarray(at + 1 + Math.floor(rand() * 8))]);
    } else {
      data = Buffer.concat([data.subarray(0, at), data.subarray(at, at + Math.floor(rand() * 16)), data.subarray(at)]);
    }
  }
  return data;
}

describe('mutated messages', () => {
  it('never throw, and accepted messages have readable core headers', () => {
    const rand = prng(4475);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 4000; i++) {
      const input = mutate(SEEDS[i % SEEDS.length] as Buffer, rand);
      const msg = parseMessage(input);
      if (msg instanceof SipParseError) {
        rejected++;
        assert.ok(msg.offset >= 0 && msg.offset <= input.length, `offset ${msg.offset} of ${input.length}`);
        if (msg.partial) void msg.partial.topVia;
        continue;
      }
      accepted++;
      void msg.topVia.branch;
      void msg.from.params;
      void msg.to.params;
      void msg.callId;
      void msg.cseq.seq;
      const again = parseMessage(msg.serialize());
      assert.ok(!(again instanceof SipParseError), `re-serialized message rejected: ${String(again)}`);
      if (msg.kind === 'request') checkRequest(msg);
    }
    // Both outcomes must be exercised for the test to mean anything.
    assert.ok(accepted > 100 && rejected > 100, `accepted ${accepted}, rejected ${rejected}`);
  });

  it('a stream of mutated messages never makes StreamFramer throw', () => {
    const rand = prng(5626);
    let messages = 0;
    let errors = 0;
    for (let i = 0; i < 300; i++) {
      const framer = new StreamFramer({ maxBytes: 4096 });
      const stream = Buffer.concat([mutate(SEEDS[i % SEEDS.length] as Buffer, rand), SEEDS[(i + 1) % SEEDS.length] as Buffer]);
      for (let at = 0; at < stream.length; ) {
        const n = 1 + Math.floor(rand() * 200);
        for (const item of framer.push(stream.subarray(at, at + n))) {
          if (item instanceof SipParseError) errors++;
          else messages++;
        }
        at += n;
      }
    }
    assert.ok(messages > 50 && errors > 50, `messages ${messages}, errors ${errors}`);
  });
});
