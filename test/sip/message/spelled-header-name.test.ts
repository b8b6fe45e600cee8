import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SPELLED_HEADER_NAMES, spelledHeaderName } from '../../../src/sip/message/spelled-header-name.ts';

/** What `spelledHeaderName` must return for a line: the index of the name it starts with, right before a colon. */
function expected(line: string): number {
  const colon = line.indexOf(':');
  return colon === -1 ? -1 : SPELLED_HEADER_NAMES.indexOf(line.slice(0, colon));
}

function at(line: string, offset = 0): number {
  const bytes = Buffer.from('x'.repeat(offset) + line, 'latin1');
  return spelledHeaderName(bytes, offset);
}

describe('spelledHeaderName', () => {
  it('recognises every name as spelled in the list, right before its colon, at any offset', () => {
    SPELLED_HEADER_NAMES.forEach((name, index) => {
      assert.equal(at(`${name}: value\r\n`), index, name);
      assert.equal(at(`${name}:value\r\n`, 7), index, name);
    });
  });

  it('agrees with the list for every one-byte change of every name and its colon', () => {
    for (const name of SPELLED_HEADER_NAMES) {
      const line = `${name}: v\r\n`;
      for (let i = 0; i <= name.length; i++) {
        for (let c = 0; c < 256; c++) {
          const changed = line.slice(0, i) + String.fromCharCode(c) + line.slice(i + 1);
          assert.equal(at(changed), expected(changed), JSON.stringify(changed));
        }
      }
    }
  });

  it('leaves other spellings, white space before the colon and cut names to the general path', () => {
    for (const name of SPELLED_HEADER_NAMES) {
      assert.equal(at(`${name.toLowerCase()}: v\r\n`), expected(`${name.toLowerCase()}: v`), name);
      assert.equal(at(`${name} : v\r\n`), -1, name);
      assert.equal(at(`${name}\r\n`), -1, name);
      for (let len = 1; len < name.length; len++) {
        const cut = `${name.slice(0, len)}: v\r\n`;
        assert.equal(at(cut), expected(cut), cut);
      }
    }
    assert.equal(at('v: x\r\n'), -1);
    assert.equal(at('X-Via: x\r\n'), -1);
  });
});
