import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderResponse, type XNode } from '../../src/api/render.ts';
import { renderCallInfo } from '../../src/api/methods/switchvox-call.ts';

test('call_info renders as the contract shows, in XML and JSON', () => {
  const info = renderCallInfo({
    callId: 'c1',
    dialedFirst: '915551112222',
    dialedSecond: '800',
    variables: [
      { name: 'balance', status: 'exists', id: 3 },
      { name: 'nope', status: 'does_not_exist' },
    ],
  });
  assert.equal(
    renderResponse('xml', 'switchvox.call', { result: [info] }),
    '<response method="switchvox.call"><result><call_info dialed_first="915551112222" dialed_second="800"><variables>' +
      '<ivr_variable id="3" name="balance" status="exists" /><ivr_variable name="nope" status="does_not_exist" />' +
      '</variables></call_info></result></response>\n',
  );
  assert.deepEqual(JSON.parse(renderResponse('json', 'switchvox.call', { result: [info] })), {
    response: {
      method: 'switchvox.call',
      result: {
        call_info: {
          dialed_first: '915551112222',
          dialed_second: '800',
          variables: { ivr_variable: [{ id: '3', name: 'balance', status: 'exists' }, { name: 'nope', status: 'does_not_exist' }] },
        },
      },
    },
  });
});

test('variables is present and empty when none were sent; one variable is an object in JSON', () => {
  const none = renderCallInfo({ callId: 'c', dialedFirst: '0101', dialedSecond: '800', variables: [] });
  assert.match(renderResponse('xml', 'switchvox.call', { result: [none] }), /<call_info dialed_first="0101" dialed_second="800"><variables><\/variables><\/call_info>/);
  const json = JSON.parse(renderResponse('json', 'switchvox.call', { result: [none] }));
  assert.deepEqual(json.response.result.call_info, { dialed_first: '0101', dialed_second: '800', variables: {} });
  const one = renderCallInfo({ callId: 'c', dialedFirst: '1', dialedSecond: '2', variables: [{ name: 'b', status: 'exists', id: 3 }] });
  assert.deepEqual(JSON.parse(renderResponse('json', 'm', { result: [one] })).response.result.call_info.variables, {
    ivr_variable: { id: '3', name: 'b', status: 'exists' },
  });
});

test('errors: one is an object, several an array; codes are numbers; text is escaped in XML', () => {
  const one = { code: 41591, message: 'x' };
  assert.deepEqual(JSON.parse(renderResponse('json', 'switchvox.call', { errors: [one] })), {
    response: { method: 'switchvox.call', errors: { error: { code: 41591, message: 'x' } } },
  });
  const two = JSON.parse(renderResponse('json', 'm', { errors: [one, { code: 54222, message: 'y' }] }));
  assert.deepEqual(two.response.errors.error, [one, { code: 54222, message: 'y' }]);
  assert.equal(
    renderResponse('xml', 'a"<b>', { errors: [{ code: 1, message: 'R&D "quoted" <tag>' }] }),
    '<response method="a&quot;&lt;b&gt;"><errors><error code="1" message="R&amp;D &quot;quoted&quot; &lt;tag&gt;" /></errors></response>\n',
  );
  const three: XNode[] = [{ name: 'x', attrs: { n: 1 } }, { name: 'x', attrs: { n: 2 } }, { name: 'x', attrs: { n: 3 } }, { name: 'y' }];
  assert.deepEqual(JSON.parse(renderResponse('json', 'm', { result: three })).response.result, { x: [{ n: 1 }, { n: 2 }, { n: 3 }], y: {} });
});
