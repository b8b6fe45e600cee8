import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SPELLED_METHODS, spelledMethod } from '../../../src/sip/message/spelled-method.ts';

/** What `spelledMethod` must return for a request line: the index of the method it starts with, before a space. */
function expected(line: string): number {
  const sp = line.indexOf(' ');
  return sp === -1 ? -1 : SPELLED_METHODS.indexOf(line.slice(0, sp));
}

function at(line: string, offset = 0): number {
  return spelledMethod(Buffer.from('\r\n'.repeat(offset) + line, 'latin1'), 2 * offset);
}

describe('spelledMethod', () => {
  it('recognises every method of the list before its space, at any offset', () => {
    SPELLED_METHODS.forEach((method, index) => {
      assert.equal(at(`${method} sip:a@b SIP/2.0\r\n`), index, method);
      assert.equal(at(`${method} sip:a@b SIP/2.0\r\n`, 2), index, method);
    });
  });

  it('agrees with the list for every one-byte change of every method and its space', () => {
    for (const method of SPELLED_METHODS) {
      const line = `${method} sip:a@b SIP/2.0\r\n`;
      for (let i = 0; i <= method.length; i++) {
        for (let c = 0; c < 256; c++) {
          const changed = line.slice(0, i) + String.fromCharCode(c) + line.slice(i + 1);
          assert.equal(at(changed), expected(changed), JSON.stringify(changed));
        }
      }
    }
  });

  it('leaves other letter cases, other methods and cut methods to the general path', () => {
    for (const method of SPELLED_METHODS) {
      assert.equal(at(`${method.toLowerCase()} sip:a@b SIP/2.0\r\n`), -1, method);
      assert.equal(at(`${method}\tsip:a@b SIP/2.0\r\n`), -1, method);
      for (let len = 1; len < method.length; len++) {
        const cut = `${method.slice(0, len)} sip:a@b SIP/2.0\r\n`;
        assert.equal(at(cut), expected(cut), cut);
      }
    }
    assert.equal(at('FOO sip:a@b SIP/2.0\r\n'), -1);
  });
});
