import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnvelope } from '../../src/api/envelope.ts';

function ok(body: string | Buffer, format: 'xml' | 'json') {
  const r = parseEnvelope(body, format);
  assert.ok(r.ok, `expected ok, got ${JSON.stringify(r)}`);
  return r.request;
}
function code(body: string | Buffer, format: 'xml' | 'json'): number {
  const r = parseEnvelope(body, format);
  assert.ok(!r.ok, 'expected an error');
  return r.error.code;
}

test('XML envelope of the contract: method attribute, parameters, variables list', () => {
  const r = ok(
    `<?xml version="1.0" encoding="UTF-8"?>
     <request method="switchvox.call">
       <parameters>
         <dial_first>015551112222</dial_first>
         <dial_second>800</dial_second>
         <dial_as_account_id>1106</dial_as_account_id>
         <caller_id_name>R&amp;D &#65;&#x42;</caller_id_name>
         <variables><variable>balance=300</variable><variable>acct=42</variable></variables>
         <timeout/>
       </parameters>
     </request>`,
    'xml',
  );
  assert.equal(r.method, 'switchvox.call');
  assert.deepEqual(r.params, {
    dial_first: '015551112222',
    dial_second: '800',
    dial_as_account_id: '1106',
    caller_id_name: 'R&D AB',
    variables: { variable: ['balance=300', 'acct=42'] },
    timeout: '',
  });
  assert.deepEqual(ok('<request method="m"><parameters><variables><variable>a=1</variable></variables></parameters></request>', 'xml').params, {
    variables: { variable: 'a=1' },
  });
  assert.deepEqual(ok('<request method="m"/>', 'xml').params, {});
  assert.deepEqual(ok('<request method="m"><parameters></parameters></request>', 'xml').params, {});
  assert.deepEqual(ok('<request method="m"><parameters><x a="1">v</x></parameters></request>', 'xml').params, { x: 'v' });
  assert.deepEqual(ok('<request method="m"><parameters><x><![CDATA[<b>]]></x></parameters></request>', 'xml').params.x, '<b>');
});

test('JSON envelope: numbers become their digits, null is absent, variables in every shape', () => {
  const r = ok(
    JSON.stringify({
      request: {
        method: 'switchvox.call',
        parameters: { dial_first: 15551112222, dial_second: '0800', dial_as_account_id: 1106, timeout: null, auto_answer: 1, variables: { variable: ['balance=300'] } },
      },
    }),
    'json',
  );
  assert.deepEqual(r.params, {
    dial_first: '15551112222',
    dial_second: '0800',
    dial_as_account_id: '1106',
    auto_answer: '1',
    variables: { variable: ['balance=300'] },
  });
  assert.deepEqual(ok('{"request":{"method":"m"}}', 'json').params, {});
  assert.deepEqual(ok('{"request":{"method":"m","parameters":{"variables":["a=1",null]}}}', 'json').params, { variables: ['a=1'] });
});

test('error codes for broken envelopes', () => {
  assert.equal(code('<request><parameters/></request>', 'xml'), 10004);
  assert.equal(code('<request method=""><parameters/></request>', 'xml'), 10004);
  assert.equal(code('{"request":{"parameters":{}}}', 'json'), 10004);
  assert.equal(code('{"request":{"method":42}}', 'json'), 10004);
  assert.equal(code('<request method="m"><parameters>', 'xml'), 10001);
  assert.equal(code('<req method="m"/>', 'xml'), 10001);
  assert.equal(code('', 'xml'), 10001);
  assert.equal(code('', 'json'), 10001);
  assert.equal(code('{"request":', 'json'), 10001);
  assert.equal(code('[1,2]', 'json'), 10001);
  assert.equal(code('{"request":{"method":"m","parameters":[1]}}', 'json'), 10001);
  assert.equal(code('<request method="m"><parameters>text</parameters></request>', 'xml'), 10001);
});

test('DOCTYPE and entity declarations are refused before parsing (no expansion, no external fetch)', () => {
  const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<request method="switchvox.call"><parameters><dial_first>&lol2;</dial_first></parameters></request>`;
  const r = parseEnvelope(billionLaughs, 'xml');
  assert.deepEqual(r, { ok: false, method: '', error: { code: 10003, message: 'XML with a DOCTYPE or entity declarations is not accepted.' } });
  assert.equal(code('<!doctype x SYSTEM "file:///etc/passwd"><request method="m"/>', 'xml'), 10003);
  // An undeclared entity stays literal text: nothing is looked up.
  assert.equal(ok('<request method="m"><parameters><a>&xxe;</a></parameters></request>', 'xml').params.a, '&xxe;');
});

test('binary garbage, invalid UTF-8, NUL bytes and deep nesting are malformed, never a crash', () => {
  const garbage = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 256));
  assert.equal(code(garbage, 'xml'), 10001);
  assert.equal(code(garbage, 'json'), 10001);
  assert.equal(code(Buffer.from([0xc3, 0x28]), 'json'), 10001);
  assert.equal(code('{"request":{"method":"m\u0000"}}', 'json'), 10001);
  const deepJson = `{"request":{"method":"m","parameters":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}}`;
  assert.equal(code(deepJson, 'json'), 10001);
  const deepXml = `<request method="m"><parameters>${'<a>'.repeat(2000)}x${'</a>'.repeat(2000)}</parameters></request>`;
  assert.equal(code(deepXml, 'xml'), 10001);
});

test('client-chosen names never reach object prototypes', () => {
  assert.equal(code('<request method="m"><parameters><__proto__><x>1</x></__proto__></parameters></request>', 'xml'), 10001);
  assert.equal(code('<request method="m"><parameters><constructor>c</constructor></parameters></request>', 'xml'), 10001);
  // fast-xml-parser renames the other Object.prototype names rather than refusing them.
  assert.deepEqual(ok('<request method="m"><parameters><toString>t</toString></parameters></request>', 'xml').params, { __toString: 't' });
  const json = ok('{"request":{"method":"m","parameters":{"__proto__":{"variables":"a=1"},"constructor":"c"}}}', 'json');
  assert.deepEqual(json.params, { constructor: 'c' });
  assert.equal((json.params as { variables?: unknown }).variables, undefined);
});
