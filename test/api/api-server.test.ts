/** The real server over real HTTPS: authentication, envelopes, methods, hostile bodies. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, type PeerCertificate } from 'node:tls';
import { generate } from 'selfsigned';
import { join } from 'node:path';
import { apiCall, rawRequest, startServer, type TestServer } from '../helpers/start-server.ts';
import { API_TEST_YAML } from './fixture.ts';
import { FakeOriginator } from './fake-originator.ts';
import { answerChallenge } from '../../src/sip/auth/digest.ts';

const run = promisify(execFile);
// The shared server must not lock the test process out while other tests probe bad credentials.
const LENIENT_YAML = API_TEST_YAML.replace('max_failures: 4', 'max_failures: 1000');

const CALL_XML = `<request method="switchvox.call"><parameters>
  <dial_first>15551112222</dial_first><dial_second>800</dial_second><dial_as_account_id>1101</dial_as_account_id>
  <caller_id_name>David Podolsky</caller_id_name><timeout>0</timeout><auto_answer>1</auto_answer>
  <variables><variable>balance=300</variable><variable>acct=42</variable></variables>
</parameters></request>`;

function codesOf(body: string): number[] {
  return [...body.matchAll(/code="(\d+)"/g)].map((m) => Number(m[1]));
}

describe('API server over HTTPS with a fake originator', () => {
  let server: TestServer;
  const originator = new FakeOriginator();
  before(async () => {
    server = await startServer(LENIENT_YAML, { originator, http: true });
  });
  after(() => server.close());

  for (const mode of ['digest-sha256', 'digest-md5', 'basic'] as const) {
    test(`switchvox.call as admin with ${mode}: the originator gets the validated request, the reply is call_info`, async () => {
      const before = originator.requests.length;
      const r = await apiCall(`${server.httpsUrl}/xml`, CALL_XML, 'admin', 'admin-secret', mode);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'text/xml; charset=utf-8');
      assert.equal(
        r.body,
        '<response method="switchvox.call"><result><call_info dialed_first="915551112222" dialed_second="800"><variables>' +
          '<ivr_variable id="3" name="balance" status="exists" /><ivr_variable name="acct" status="does_not_exist" />' +
          '</variables></call_info></result></response>\n',
      );
      assert.equal(originator.requests.length, before + 1);
      const req = originator.requests.at(-1);
      assert.ok(req);
      assert.equal(req.dialFirst, '15551112222');
      assert.equal(req.dialSecond, '800');
      assert.equal(req.account.account_id, '1101');
      assert.equal(req.callerIdName, 'David Podolsky');
      assert.equal(req.timeout, 0);
      assert.equal(req.timeoutSecondCall, 30);
      assert.equal(req.autoAnswer, true);
      assert.equal(req.ignoreUserApiSettings, false);
      assert.deepEqual(req.variables, [{ name: 'balance', value: '300' }, { name: 'acct', value: '42' }]);
      assert.equal(req.requestedBy, 'admin');
      assert.equal(req.method, 'switchvox.call');
    });
  }

  test('no credentials: 401, one WWW-Authenticate per algorithm (MD5 first, as Switchvox) plus Basic, envelope 10009, no call placed', async () => {
    const before = originator.requests.length;
    const r = await rawRequest(`${server.httpsUrl}/xml`, CALL_XML);
    assert.equal(r.status, 401);
    const challenges = r.challenges;
    assert.equal(challenges.length, 3);
    assert.match(challenges[0] ?? '', /^Digest realm="test-realm", qop="auth", algorithm=MD5, nonce="[^"]+"$/);
    assert.match(challenges[1] ?? '', /^Digest realm="test-realm", qop="auth", algorithm=SHA-256, nonce="[^"]+"$/);
    assert.equal(challenges[2], 'Basic realm="test-realm", charset="UTF-8"');
    assert.deepEqual(codesOf(r.body), [10009]);
    assert.equal(originator.requests.length, before);
  });

  test('wrong password (Digest or Basic), unknown user, replayed Digest: 401 with fresh challenges, never reaching the method', async () => {
    const before = originator.requests.length;
    for (const mode of ['digest-sha256', 'digest-md5', 'basic'] as const) {
      const r = await apiCall(`${server.httpsUrl}/xml`, CALL_XML, 'admin', 'wrong', mode);
      assert.equal(r.status, 401, mode);
      assert.equal(r.challenges.length, 3);
    }
    assert.equal((await apiCall(`${server.httpsUrl}/xml`, CALL_XML, 'nobody', 'admin-secret', 'basic')).status, 401);
    assert.equal((await apiCall(`${server.httpsUrl}/xml`, CALL_XML, '104', '', 'basic')).status, 401, 'generated password, not empty');
    const first = await rawRequest(`${server.httpsUrl}/xml`, CALL_XML);
    const authorization = answerChallenge({
      challenge: first.challenges,
      method: 'POST',
      uri: '/xml',
      username: 'admin',
      password: 'admin-secret',
    });
    assert.equal((await rawRequest(`${server.httpsUrl}/xml`, CALL_XML, { authorization })).status, 200);
    assert.equal((await rawRequest(`${server.httpsUrl}/xml`, CALL_XML, { authorization })).status, 401, 'replayed nonce count');
    const otherUri = answerChallenge({ challenge: first.challenges, method: 'POST', uri: '/json', username: 'admin', password: 'admin-secret', nc: 5 });
    assert.equal((await rawRequest(`${server.httpsUrl}/xml`, CALL_XML, { authorization: otherUri })).status, 401, 'credentials for another URI');
    assert.equal(originator.requests.length, before + 1);
  });

  test('curl --digest -k drives the server (an independent Digest implementation)', async () => {
    const { stdout } = await run('curl', ['-sS', '-k', '--digest', '-u', 'admin:admin-secret', '--max-time', '10', '--data-binary', CALL_XML, `${server.httpsUrl}/xml`]);
    assert.match(stdout, /^<response method="switchvox.call"><result><call_info dialed_first="915551112222"/);
    const json = await run('curl', [
      '-sS', '-k', '--digest', '-u', '101:alice-pw', '--max-time', '10', '-H', 'Content-Type: text/json',
      '--data-binary', '{"request":{"method":"switchvox.users.call","parameters":{"dial_first":"101","dial_second":"15551112222"}}}',
      `${server.httpsUrl}/json`,
    ]);
    assert.deepEqual(JSON.parse(json.stdout), {
      response: { method: 'switchvox.users.call', result: { call_info: { dialed_first: '9101', dialed_second: '15551112222', variables: {} } } },
    });
  });

  test('JSON envelope over HTTPS: numbers as numbers, variables as {variable:[...]}, [...] or a string', async () => {
    for (const variables of [{ variable: ['balance=1', 'acct=2'] }, ['balance=1', 'acct=2'], 'balance=1']) {
      const body = JSON.stringify({ request: { method: 'switchvox.call', parameters: { dial_first: 15551112222, dial_second: 800, dial_as_account_id: 1101, timeout: 999, variables } } });
      const r = await apiCall(`${server.httpsUrl}/json`, body, 'admin', 'admin-secret');
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      const info = JSON.parse(r.body).response.result.call_info;
      assert.equal(info.dialed_first, '915551112222');
      assert.equal(info.dialed_second, '800');
      const expected = typeof variables === 'string' ? { id: '3', name: 'balance', status: 'exists' } : [{ id: '3', name: 'balance', status: 'exists' }, { name: 'acct', status: 'does_not_exist' }];
      assert.deepEqual(info.variables.ivr_variable, expected);
      assert.equal(originator.requests.at(-1)?.timeout, 999);
    }
    const bad = await apiCall(`${server.httpsUrl}/json`, '{"request":{"method":"switchvox.call","parameters":{"dial_first":"x","dial_second":"1","dial_as_account_id":"1800","timeout":1000}}}', 'admin', 'admin-secret');
    assert.deepEqual(JSON.parse(bad.body).response.errors.error.map((e: { code: number }) => e.code), [54222, 77427, 75233]);
  });

  test('OriginateFailedError answers 41591 with the seed message', async () => {
    originator.behaviour = 'fail';
    try {
      const r = await apiCall(`${server.httpsUrl}/json`, '{"request":{"method":"switchvox.call","parameters":{"dial_first":"1","dial_second":"2","dial_as_account_id":"1101"}}}', 'admin', 'admin-secret');
      assert.deepEqual(JSON.parse(r.body), {
        response: {
          method: 'switchvox.call',
          errors: { error: { code: 41591, message: "Your call failed to connect (Originate failed). This fault is usually caused by entering an invalid extension or phone number that can't be reached." } },
        },
      });
    } finally {
      originator.behaviour = new FakeOriginator().behaviour;
    }
  });

  test('an unexpected failure in the call layer answers 10017 with HTTP 500 and no stack trace', async () => {
    originator.behaviour = () => {
      throw new TypeError('engine bug at /srv/secret/path.ts:12');
    };
    try {
      const r = await apiCall(`${server.httpsUrl}/xml`, CALL_XML, 'admin', 'admin-secret');
      assert.equal(r.status, 500);
      assert.equal(r.body, '<response method=""><errors><error code="10017" message="Internal error. The request may not have been carried out." /></errors></response>\n');
    } finally {
      originator.behaviour = new FakeOriginator().behaviour;
    }
  });

  test('extension users may call switchvox.users.* only, as themselves', async () => {
    const users = (params: string) => `<request method="switchvox.users.call"><parameters><dial_first>101</dial_first><dial_second>800</dial_second>${params}</parameters></request>`;
    const ok = await apiCall(`${server.httpsUrl}/xml`, users(''), '101', 'alice-pw');
    assert.match(ok.body, /<call_info dialed_first="9101" dialed_second="800">/);
    assert.equal(originator.requests.at(-1)?.account.account_id, '1101');
    assert.equal(originator.requests.at(-1)?.requestedBy, '101');
    assert.deepEqual(codesOf((await apiCall(`${server.httpsUrl}/xml`, users('<account_id>1103</account_id>'), '101', 'alice-pw', 'basic')).body), [10007]);
    const denied = await apiCall(`${server.httpsUrl}/xml`, CALL_XML, '101', 'alice-pw');
    assert.equal(denied.status, 200);
    assert.equal(denied.body, '<response method="switchvox.call"><errors><error code="10006" message="Permission denied (switchvox.call). An extension user may only call switchvox.users.* methods." /></errors></response>\n');
    const lobby = await apiCall(`${server.httpsUrl}/xml`, '<request method="switchvox.extensions.getInfo"><parameters><extension>101</extension></parameters></request>', '103', 'lobby-pw');
    assert.deepEqual(codesOf(lobby.body), [10006]);
    // An IVR's extension is no user, whatever password is tried.
    assert.equal((await apiCall(`${server.httpsUrl}/xml`, users(''), '800', '', 'basic')).status, 401);
  });

  test('hostile and broken requests: each an error envelope with its documented code', async () => {
    const call = (body: string | Buffer, headers: Record<string, string> = {}, path = '/xml') =>
      rawRequest(`${server.httpsUrl}${path}`, body, { authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}`, ...headers });
    const huge = await call(`<request method="switchvox.call"><parameters><dial_first>${'1'.repeat(10_000)}</dial_first></parameters></request>`);
    assert.equal(huge.status, 413);
    assert.deepEqual(codesOf(huge.body), [10002]);
    const doctype = await call('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><request method="switchvox.call"><parameters><dial_first>&b;</dial_first></parameters></request>');
    assert.equal(doctype.status, 200);
    assert.deepEqual(codesOf(doctype.body), [10003]);
    const garbage = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 131 + 7) % 256));
    for (const path of ['/xml', '/json']) {
      const g = await call(garbage, { 'content-type': 'application/octet-stream' }, path);
      assert.equal(g.status, 200);
      assert.ok(!g.body.includes(' at '), 'no stack trace');
      assert.deepEqual(path === '/xml' ? codesOf(g.body) : [JSON.parse(g.body).response.errors.error.code], [10001]);
    }
    assert.deepEqual(codesOf((await call('<request method="switchvox.nope"/>')).body), [10005]);
    assert.equal((await call('<request method="switchvox.nope"/>')).body, '<response method="switchvox.nope"><errors><error code="10005" message="Unknown method (switchvox.nope)." /></errors></response>\n');
    assert.deepEqual(codesOf((await call('<request><parameters/></request>')).body), [10004]);
    assert.deepEqual(codesOf((await call('')).body), [10001]);
    // Content-Type is ignored, even when absent or malformed.
    for (const ct of ['application/x-www-form-urlencoded', 'text/json', 'garbage;;;=', 'application/json']) {
      assert.match((await call(CALL_XML, { 'content-type': ct })).body, /<call_info /, ct);
    }
    const notFound = await call('x', {}, '/other');
    assert.equal(notFound.status, 404);
    assert.deepEqual(codesOf(notFound.body), [10016]);
    const get = await rawRequest(`${server.httpsUrl}/xml`, '', { authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` }, 'GET');
    assert.equal(get.status, 404);
    assert.deepEqual(codesOf(get.body), [10016]);
  });

  test('switchvox.extensions.getInfo by extension and by account_id, in both envelopes', async () => {
    const x = await apiCall(`${server.httpsUrl}/xml`, '<request method="switchvox.extensions.getInfo"><parameters><extensions><extension>101</extension><extension>800</extension></extensions></parameters></request>', 'admin', 'admin-secret');
    assert.equal(
      x.body,
      '<response method="switchvox.extensions.getInfo"><result><extensions>' +
        '<extension account_id="1101" number="101" display_name="Alice Anders" type="sip" />' +
        '<extension account_id="1800" number="800" display_name="Balance" type="ivr" /></extensions></result></response>\n',
    );
    const j = await apiCall(`${server.httpsUrl}/json`, '{"request":{"method":"switchvox.extensions.getInfo","parameters":{"account_ids":{"account_id":1104}}}}', 'admin', 'admin-secret');
    assert.deepEqual(JSON.parse(j.body).response.result, { extensions: { extension: { account_id: '1104', number: '104', display_name: 'Remote Worker', type: 'virtual' } } });
    const missing = await apiCall(`${server.httpsUrl}/json`, '{"request":{"method":"switchvox.extensions.getInfo","parameters":{"extension":["999"],"account_id":"1"}}}', 'admin', 'admin-secret');
    assert.deepEqual(JSON.parse(missing.body).response.errors.error.map((e: { code: number }) => e.code), [10013, 10015]);
    const none = await apiCall(`${server.httpsUrl}/xml`, '<request method="switchvox.extensions.getInfo"/>', 'admin', 'admin-secret');
    assert.deepEqual(codesOf(none.body), [10011]);
  });

  test('switchvox.ivr.globalVariables.getList lists the IVR variables of the config', async () => {
    const r = await apiCall(`${server.httpsUrl}/xml`, '<request method="switchvox.ivr.globalVariables.getList"/>', 'admin', 'admin-secret');
    assert.equal(
      r.body,
      '<response method="switchvox.ivr.globalVariables.getList"><result><ivr_global_variables>' +
        '<ivr_global_variable id="3" name="balance" value="0" ivr_account_id="1800" />' +
        '<ivr_global_variable id="4" name="acct" value="" ivr_account_id="1800" /></ivr_global_variables></result></response>\n',
    );
  });

  test('switchvox.currentCalls.getList and hangUp delegate to the originator', async () => {
    originator.calls = [
      { callId: 'c-7', accountId: '1101', state: 'bridged', startedAt: new Date(Date.now() - 5000), legs: [{ leg: 'first', number: '101', state: 'answered' }, { leg: 'second', number: '800', state: 'answered' }] },
    ];
    const list = await apiCall(`${server.httpsUrl}/json`, '{"request":{"method":"switchvox.currentCalls.getList"}}', 'admin', 'admin-secret');
    const call = JSON.parse(list.body).response.result.current_calls;
    assert.equal(call.total_items, '1');
    assert.equal(call.current_call.id, 'c-7');
    assert.equal(call.current_call.account_id, '1101');
    assert.ok(Number(call.current_call.duration) >= 4);
    assert.deepEqual(call.current_call.legs.leg, [{ leg: 'first', number: '101', state: 'answered' }, { leg: 'second', number: '800', state: 'answered' }]);
    const hang = await apiCall(`${server.httpsUrl}/xml`, '<request method="switchvox.currentCalls.hangUp"><parameters><current_call_id>c-7</current_call_id></parameters></request>', 'admin', 'admin-secret');
    assert.match(hang.body, /<current_call id="c-7" status="hung_up" \/>/);
    const bad = await apiCall(`${server.httpsUrl}/xml`, '<request method="switchvox.currentCalls.hangUp"><parameters><current_call_id>c-8</current_call_id></parameters></request>', 'admin', 'admin-secret');
    assert.equal(bad.body, '<response method="switchvox.currentCalls.hangUp"><errors><error code="10012" message="Invalid current_call_id (c-8). No such call." /></errors></response>\n');
    assert.deepEqual(originator.hungUp, ['c-7', 'c-8']);
    assert.deepEqual(codesOf((await apiCall(`${server.httpsUrl}/xml`, '<request method="switchvox.currentCalls.hangUp"/>', 'admin', 'admin-secret')).body), [10011]);
  });

  test('the optional plain HTTP listener serves the same API', async () => {
    assert.ok(server.httpUrl);
    const r = await apiCall(`${server.httpUrl}/xml`, CALL_XML, 'admin', 'admin-secret');
    assert.match(r.body, /<call_info dialed_first="915551112222"/);
  });
});

test('without an origination engine switchvox.call validates, then answers 10008: nothing pretends a call was placed', async () => {
  const server = await startServer(LENIENT_YAML);
  try {
    const r = await apiCall(`${server.httpsUrl}/xml`, CALL_XML, 'admin', 'admin-secret');
    assert.equal(r.body, '<response method="switchvox.call"><errors><error code="10008" message="No origination engine is available on this server. No call was placed." /></errors></response>\n');
    const invalid = await apiCall(`${server.httpsUrl}/xml`, CALL_XML.replace('1101', '9999'), 'admin', 'admin-secret');
    assert.deepEqual(codesOf(invalid.body), [77427]);
    assert.deepEqual(codesOf((await apiCall(`${server.httpsUrl}/xml`, '<request method="switchvox.currentCalls.getList"/>', 'admin', 'admin-secret')).body), [10008]);
  } finally {
    await server.close();
  }
});

test('failed logins from one address are throttled, then locked out (429), even for right credentials', async () => {
  const server = await startServer(API_TEST_YAML);
  try {
    const statuses: number[] = [];
    const elapsed: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      statuses.push((await apiCall(`${server.httpsUrl}/xml`, CALL_XML, 'admin', `wrong${i}`, 'basic')).status);
      elapsed.push(performance.now() - t0);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    // Past half the limit each failure is answered later (200 ms per failure over half).
    assert.ok((elapsed[2] ?? 0) >= 190, `third failure answered after ${elapsed[2]} ms`);
    const locked = await apiCall(`${server.httpsUrl}/xml`, CALL_XML, 'admin', 'admin-secret', 'basic');
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers['retry-after']) > 0 && Number(locked.headers['retry-after']) <= 60);
    assert.deepEqual(codesOf(locked.body), [10010]);
    assert.equal((await rawRequest(`${server.httpsUrl}/xml`, CALL_XML)).status, 429);
  } finally {
    await server.close();
  }
});

test('generated passwords: made on the first start, reused on the next, and the certificate kept', async () => {
  const yaml = 'api: { auth: { realm: r } }\naccounts:\n  - { account_id: "1", extension: "101", type: sip }\n';
  const first = await startServer(yaml);
  const generated = first.app.generatedSecrets.map((s) => s.label);
  const admin = first.adminPassword;
  const sip = first.app.credentials.sipPassword('1');
  const cert = readFileSync(join(first.dataDir, 'tls', 'cert.pem'), 'utf8');
  await first.close();
  assert.deepEqual(generated, ['API admin password (user admin)', 'account 1 (extension 101) SIP password', 'account 1 (extension 101) API password']);
  const second = await startServer(yaml, { dataDir: first.dataDir });
  try {
    assert.deepEqual(second.app.generatedSecrets, []);
    assert.equal(second.adminPassword, admin);
    assert.equal(second.app.credentials.sipPassword('1'), sip);
    assert.equal(readFileSync(join(first.dataDir, 'tls', 'cert.pem'), 'utf8'), cert);
    assert.equal((await apiCall(`${second.httpsUrl}/xml`, '<request method="switchvox.ivr.globalVariables.getList"/>', 'admin', admin, 'digest-md5')).status, 200);
    assert.equal((await apiCall(`${second.httpsUrl}/xml`, '<request method="switchvox.users.call"/>', '101', second.app.credentials.apiPassword('1') ?? '', 'basic')).status, 200);
  } finally {
    await second.close();
  }
});

test('a configured certificate and key are served instead of a generated pair', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'originate-cert-'));
  const pems = await generate([{ name: 'commonName', value: 'configured.example' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
  writeFileSync(join(dir, 'cert.pem'), pems.cert);
  writeFileSync(join(dir, 'key.pem'), pems.private);
  const server = await startServer(`api: { https: { cert: ${join(dir, 'cert.pem')}, key: ${join(dir, 'key.pem')} } }\n`);
  try {
    const port = Number(new URL(server.httpsUrl).port);
    const peer = await new Promise<PeerCertificate>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      });
      socket.once('error', reject);
    });
    assert.equal(peer.subject.CN, 'configured.example');
    assert.equal(peer.fingerprint, pems.fingerprint.toUpperCase());
  } finally {
    await server.close();
  }
});
