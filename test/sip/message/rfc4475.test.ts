// RFC 4475 torture messages: every valid one parses to the values the RFC names; every invalid one is rejected
// the way the RFC says (by parseMessage, or by checkRequest for the UAS checks of §8.2), and none throws.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  SipParseError,
  SipRequest,
  SipResponse,
  checkRequest,
  createResponse,
  parseMessage,
  type SipMessage,
} from '../../../src/sip/message/index.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/rfc4475');

function load(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

function parseOk(name: string): SipMessage {
  const msg = parseMessage(load(name));
  if (msg instanceof SipParseError) assert.fail(`${name}: ${msg.message} at ${msg.offset}`);
  return msg;
}

function request(name: string): SipRequest {
  const msg = parseOk(name);
  assert.ok(msg instanceof SipRequest, `${name} is a request`);
  return msg;
}

function response(name: string): SipResponse {
  const msg = parseOk(name);
  assert.ok(msg instanceof SipResponse, `${name} is a response`);
  return msg;
}

function parseErr(name: string): SipParseError {
  const msg = parseMessage(load(name));
  assert.ok(msg instanceof SipParseError, `${name} must be rejected`);
  return msg;
}

/** Rejected with 400 and enough left to answer it: the 400 built from `partial` carries its Via and Call-ID. */
function rejectedWith400(name: string, callId: string | undefined): SipParseError {
  const err = parseErr(name);
  assert.equal(err.status, 400);
  assert.ok(err.partial, `${name}: a 400 must be possible`);
  const res = createResponse(err.partial, err.status, undefined, { toTag: 'x1' });
  // Not re-parsed: a 400 copies the offending From/To/CSeq as received (§8.2.6.2), so it may be as broken.
  const text = res.serialize().toString('utf8');
  assert.ok(text.startsWith('SIP/2.0 400 Bad Request\r\n'), text);
  assert.equal(res.topVia.branch, err.partial.topVia.branch);
  assert.equal(res.get('call-id'), callId);
  assert.equal(res.getAll('call-id').length, 1);
  assert.equal(res.getAll('to').length, 1);
  return err;
}

describe('RFC 4475 §3.1.1 valid messages', () => {
  it('every file in valid/ parses and re-serializes to a message that parses again', () => {
    for (const f of readdirSync(join(FIXTURES, 'valid'))) {
      const msg = parseOk(`valid/${f}`);
      const copy = parseMessage(msg.serialize());
      assert.ok(!(copy instanceof SipParseError), f);
      msg.set('X-Edit', '1');
      const edited = parseMessage(msg.serialize());
      if (edited instanceof SipParseError) assert.fail(`${f} after an edit: ${edited.message}`);
      assert.equal(edited.callId, msg.callId);
      assert.deepEqual(edited.body, msg.body);
    }
  });

  it('wsinv: whitespace, folding and compact forms everywhere', () => {
    const m = request('valid/wsinv.dat');
    assert.equal(m.method, 'INVITE');
    assert.equal(m.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
    assert.deepEqual(m.requestUri.params, { unknownparam: null });
    assert.equal(m.to.uri.user, 'vivekg');
    assert.equal(m.to.params['tag'], '1918181833n');
    assert.equal(m.from.displayName, 'J Rosenberg \\"');
    assert.equal(m.from.params['tag'], '98asjd8');
    assert.equal(m.maxForwards, 68);
    assert.equal(m.callId, 'wsinv.ndaksdj@192.0.2.1');
    assert.deepEqual(m.cseq, { seq: 9, method: 'INVITE' });
    assert.deepEqual(
      m.vias.map((v) => [v.transport, v.host, v.branch]),
      [
        ['UDP', '192.0.2.2', '390skdjuw'],
        ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['UDP', '192.168.255.111', 'z9hG4bK30239'],
      ],
    );
    assert.equal(m.get('s'), '');
    assert.equal(m.get('newfangledheader'), 'newfangled value continued newfangled value');
    assert.equal(m.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    const contacts = m.contacts;
    assert.ok(contacts !== '*');
    assert.equal(contacts[0]?.displayName, 'Quoted string ""');
    assert.deepEqual(contacts[0]?.params, { newparam: 'newvalue', secondparam: null, q: '0.33' });
    assert.equal(m.routes[0]?.uri.host, 'services.example.com');
    assert.deepEqual(m.routes[0]?.uri.params, { lr: null, unknownwith: 'value', 'unknown-no-value': null });
    assert.equal(m.contentType, 'application/sdp');
    assert.equal(m.body.length, 150);
    assert.equal(checkRequest(m), null);
  });

  it('intmeth: unusual characters in method, URI, display names, Call-ID, header names', () => {
    const m = request('valid/intmeth.dat');
    assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
    assert.equal(m.cseq.method, m.method);
    assert.equal(m.cseq.seq, 139122385);
    assert.equal(m.requestUri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(m.requestUri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(m.requestUri.host, 'example.com');
    assert.equal(m.topVia.branch, "z9hG4bK-.!%66*_+`'~");
    assert.equal(m.to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.equal(m.from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(m.from.params['tag'], "_token~1'+`*%!-.");
    assert.equal(m.from.params["fromparam''~+*_!.-%"], '"\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439"');
    assert.equal(m.callId, 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    assert.equal(m.maxForwards, 255);
    assert.equal(m.get("extensionHeader-!.%*+_`'~"), '\ufeff\u5927\u505c\u96fb');
  });

  it('esc01: escaped characters in URIs compare unescaped', () => {
    const m = request('valid/esc01.dat');
    assert.equal(m.requestUri.user, 'sips:user@example.com');
    assert.equal(m.requestUri.host, 'example.net');
    assert.equal(m.to.uri.user, 'user');
    assert.equal(m.from.uri.user, 'I have spaces');
    const c = m.contacts;
    assert.ok(c !== '*');
    assert.equal(c[0]?.uri.user, 'caller');
    assert.equal(m.contentType, 'application/sdp');
    assert.equal(m.body.length, 150);
  });

  it('esc02: escapes in the method and display name are not decoded; C%6Fntact is another header', () => {
    const m = request('valid/esc02.dat');
    assert.equal(m.method, 'RE%47IST%45R');
    assert.equal(m.cseq.method, 'RE%47IST%45R');
    assert.equal(m.to.displayName, '%Z%45');
    assert.equal(m.topVia.branch, 'z9hG4bK209%fzsnel234');
    const c = m.contacts;
    assert.ok(c !== '*');
    assert.deepEqual(
      c.map((x) => x.uri.host),
      ['host1.example.com', 'host3.example.com'],
    );
    assert.equal(m.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
  });

  it('escnull: %00 in user parts', () => {
    const m = request('valid/escnull.dat');
    assert.equal(m.to.uri.user, 'null-\x00-null');
    const c = m.contacts;
    assert.ok(c !== '*');
    assert.deepEqual(
      c.map((x) => x.uri.user),
      ['\x00', '\x00\x00'],
    );
    assert.equal(m.body.length, 0);
  });

  it('esc02 and escnull: the escaped user part is written back escaped', () => {
    const m = request('valid/escnull.dat');
    m.setToTag('t1');
    const again = parseMessage(m.serialize());
    assert.ok(again instanceof SipRequest);
    assert.equal(again.to.uri.user, 'null-\x00-null');
    assert.equal(again.to.params['tag'], 't1');
  });

  it('longreq: long values and 34 Via lines written many ways', () => {
    const m = request('valid/longreq.dat');
    assert.equal(m.vias.length, 34);
    assert.equal(m.topVia.host, 'sip33.example.com');
    assert.equal(m.vias[33]?.host, 'host.example.com');
    assert.equal(m.vias[33]?.received, '192.0.2.5');
    assert.ok((m.vias[33]?.branch ?? '').startsWith('verylonglong'));
    assert.match(m.to.displayName ?? '', /^I have a user name of (extreme)+ proportion$/);
    assert.equal(m.to.uri.port, 6000);
    assert.ok((m.from.params['tag'] ?? '').length > 50);
    assert.ok(m.callId.endsWith('reallylongcallid'));
    assert.equal(m.body.length, 150);
  });

  it('dblreq: a second message after Content-Length in the datagram is ignored', () => {
    const m = request('valid/dblreq.dat');
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.callId, 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    assert.equal(m.body.length, 0);
    assert.ok(!m.serialize().includes('INVITE'));
  });

  it('semiuri: a ; in the user part, and a folded Accept list', () => {
    const m = request('valid/semiuri.dat');
    assert.equal(m.requestUri.user, 'user;par=u@example.net');
    assert.equal(m.requestUri.host, 'example.com');
    assert.deepEqual(m.requestUri.params, {});
    assert.equal(m.getAll('accept').length, 6);
  });

  it('transports: unknown transports in Via', () => {
    const m = request('valid/transports.dat');
    assert.deepEqual(
      m.vias.map((v) => v.transport),
      ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP'],
    );
    assert.equal(m.callId, 'transports.kijh4akdnaqjkwendsasfdj');
  });

  it('mpart01: a multipart body is kept byte for byte', () => {
    const m = request('valid/mpart01.dat');
    assert.equal(m.contentType, 'multipart/mixed');
    assert.equal(m.body.length, 553);
    assert.ok(m.body.includes('7a9cbec02ceef655'));
  });

  it('unreason: UTF-8 reason phrase', () => {
    const m = response('valid/unreason.dat');
    assert.equal(m.status, 200);
    assert.ok(m.reason.startsWith('= 2**3 * 5**2 \u043d\u043e \u0441\u0442\u043e'), m.reason);
    assert.equal(m.body.length, 154);
  });

  it('noreason: empty reason phrase', () => {
    const m = response('valid/noreason.dat');
    assert.equal(m.status, 100);
    assert.equal(m.reason, '');
  });

  it('lwsdisp: no LWS between display name and <', () => {
    const m = request('valid/lwsdisp.dat');
    assert.equal(m.from.displayName, 'caller');
    assert.equal(m.from.params['tag'], '323');
  });
});

describe('RFC 4475 §3.1.2 invalid messages', () => {
  it('badinv01: extraneous separators in the only Via: rejected, no response possible', () => {
    const err = parseErr('other/badinv01.dat');
    assert.equal(err.status, 400);
    assert.equal(err.partial, undefined);
    assert.ok(err.offset > 0 && err.offset < load('other/badinv01.dat').length);
  });

  it('clerr: Content-Length larger than the datagram: 400', () => {
    rejectedWith400('other/clerr.dat', 'clerr.0ha0isndaksdjweiafasdk3');
  });

  it('ncl: negative Content-Length: 400', () => {
    rejectedWith400('other/ncl.dat', 'ncl.0ha0isndaksdj2193423r542w35');
  });

  it('scalar02: CSeq and Max-Forwards beyond their ranges: 400', () => {
    rejectedWith400('other/scalar02.dat', 'scalar02.23o0pd9vanlq3wnrlnewofjas9ui32');
  });

  it('scalarlg: response with overlarge scalars is rejected (dropped: no response to a response)', () => {
    const err = parseErr('other/scalarlg.dat');
    assert.equal(err.partial, undefined);
  });

  it('quotbal: unterminated quoted display name: 400', () => {
    rejectedWith400('other/quotbal.dat', 'quotbal.aksdj');
  });

  it('ltgtruri: <> around the Request-URI: 400', () => {
    rejectedWith400('other/ltgtruri.dat', 'ltgtruri.1@192.0.2.5');
  });

  it('lwsruri: LWS inside the Request-URI: 400', () => {
    rejectedWith400('other/lwsruri.dat', 'lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423');
  });

  it('lwsstart: several SP between request line elements: 400', () => {
    rejectedWith400('other/lwsstart.dat', 'lwsstart.dfknq234oi243099adsdfnawe3@example.com');
  });

  it('trws: SP after the SIP version: 400', () => {
    rejectedWith400('other/trws.dat', 'trws.oicu34958239neffasdhr2345r');
  });

  it('escruri: headers in the Request-URI: 400', () => {
    rejectedWith400('other/escruri.dat', 'escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5');
  });

  it('baddate: non-GMT Date is accepted: nothing of ours depends on Date (the RFC allows it)', () => {
    const m = request('other/baddate.dat');
    assert.equal(checkRequest(m), null);
  });

  it('regbadct: Contact URI with ? not in <>: parsed, checkRequest answers 400', () => {
    const m = request('other/regbadct.dat');
    assert.equal(checkRequest(m)?.status, 400);
  });

  it('badaspec: spaces inside <>: 400', () => {
    rejectedWith400('other/badaspec.dat', 'badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3');
  });

  it('baddn: non-token characters in an unquoted display name: 400', () => {
    rejectedWith400('other/baddn.dat', 'baddn.31415@c.example.com');
  });

  it('badvers: SIP/7.0: 505 with a response possible', () => {
    const err = parseErr('other/badvers.dat');
    assert.equal(err.status, 505);
    assert.equal(err.versionNotSupported, true);
    assert.ok(err.partial);
    const res = createResponse(err.partial, 505, undefined, { toTag: 'v1' });
    assert.equal(res.status, 505);
    assert.equal(res.reason, 'Version Not Supported');
    assert.equal(res.get('call-id'), 'badvers.31417@c.example.com');
  });

  it('mismatch01: CSeq method differs from the request method: 400', () => {
    rejectedWith400('other/mismatch01.dat', 'mismatch01.dj0234sxdfl3');
  });

  it('mismatch02: unknown method and CSeq mismatch: 400, which the RFC accepts besides 501', () => {
    rejectedWith400('other/mismatch02.dat', 'mismatch02.dj0234sxdfl3');
  });

  it('bigcode: 4294967301 status code is rejected, not wrapped', () => {
    const err = parseErr('other/bigcode.dat');
    assert.equal(err.partial, undefined);
  });

});

describe('RFC 4475 §3.2-§3.4 transaction, application and compatibility cases (parsed; the named layer answers)', () => {
  it('insuf: missing Call-ID, From, To: 400 copying what exists', () => {
    const err = parseErr('other/insuf.dat');
    assert.equal(err.status, 400);
    assert.ok(err.partial);
    const res = createResponse(err.partial, 400);
    assert.equal(res.topVia.branch, 'z9hG4bKkdj.insuf');
    assert.equal(res.get('call-id'), undefined);
  });

  it('multi01: several values in single-value headers: 400', () => {
    rejectedWith400('other/multi01.dat', 'multi01.98asdh@192.0.2.1');
  });

  it('mcl01: two Content-Length headers: 400', () => {
    rejectedWith400('other/mcl01.dat', 'mcl01.fhn2323orihawfdoa3o4r52o3irsdf');
  });
  it('badbranch: branch of only the magic cookie parses; the transaction layer matches it', () => {
    const m = request('other/badbranch.dat');
    assert.equal(m.topVia.branch, 'z9hG4bK');
    assert.equal(checkRequest(m), null);
  });

  it('inv2543: RFC 2543 request without branch or Max-Forwards is accepted', () => {
    const m = request('other/inv2543.dat');
    assert.equal(m.topVia.branch, undefined);
    assert.equal(m.maxForwards, undefined);
    assert.equal(checkRequest(m), null);
  });

  it('unkscm: unknown Request-URI scheme: 416 from checkRequest', () => {
    const m = request('other/unkscm.dat');
    assert.equal(m.requestUri.scheme, 'nobodyknowsthisscheme');
    assert.equal(checkRequest(m)?.status, 416);
  });

  it('novelsc: novel scheme soap.beep: 416 from checkRequest', () => {
    assert.equal(checkRequest(request('other/novelsc.dat'))?.status, 416);
  });

  it('unksm2: non-SIP schemes in To, From, Contact parse; the registrar rejects the AOR', () => {
    const m = request('other/unksm2.dat');
    assert.equal(m.to.uri.scheme, 'isbn');
    assert.equal(m.to.uri.opaque, '2983792873');
    assert.equal(m.from.uri.scheme, 'http');
    assert.equal(checkRequest(m), null);
  });

  it('bext01: unknown Require option tags: 420 with Unsupported', () => {
    const r = checkRequest(request('other/bext01.dat'));
    assert.equal(r?.status, 420);
    assert.deepEqual(r?.headers, [['Unsupported', 'nothingSupportsThis, nothingSupportsThisEither']]);
  });

  it('invut: unknown Content-Type: 415 with Accept', () => {
    const r = checkRequest(request('other/invut.dat'));
    assert.equal(r?.status, 415);
    assert.equal(r?.headers?.[0]?.[0], 'Accept');
  });

  it('regaut01: unknown authorization scheme parses; the registrar answers 401', () => {
    const m = request('other/regaut01.dat');
    assert.equal(m.get('authorization'), 'NoOneKnowsThisScheme opaque-data=here');
    assert.equal(checkRequest(m), null);
  });

  it('regescrt: escaped header in a Contact URI inside <> is accepted', () => {
    const m = request('other/regescrt.dat');
    const c = m.contacts;
    assert.ok(c !== '*');
    assert.deepEqual(c[0]?.uri.headers, { Route: '%3Csip:sip.example.com%3E' });
    assert.equal(checkRequest(m), null);
  });

  it('sdp01: Accept without SDP on INVITE: 406', () => {
    assert.equal(checkRequest(request('other/sdp01.dat'))?.status, 406);
  });

  it('zeromf: Max-Forwards 0 is processed by an endpoint (483 is a proxy answer)', () => {
    const m = request('other/zeromf.dat');
    assert.equal(m.maxForwards, 0);
    assert.equal(checkRequest(m), null);
  });

  it('cparam01/cparam02: header vs URI parameters of Contact', () => {
    const a = request('other/cparam01.dat').contacts;
    assert.ok(a !== '*');
    assert.deepEqual(a[0]?.params, { unknownparam: null });
    assert.deepEqual(a[0]?.uri.params, {});
    const b = request('other/cparam02.dat').contacts;
    assert.ok(b !== '*');
    assert.deepEqual(b[0]?.params, {});
    assert.deepEqual(b[0]?.uri.params, { unknownparam: null });
  });

  it('bcast: a response whose second Via is a broadcast address parses (the transport must not send there)', () => {
    const m = response('other/bcast.dat');
    assert.equal(m.vias[1]?.host, '255.255.255.255');
  });

  it('no fixture makes parseMessage or checkRequest throw', () => {
    for (const dir of ['valid', 'other']) {
      for (const f of readdirSync(join(FIXTURES, dir))) {
        const msg = parseMessage(load(`${dir}/${f}`));
        if (msg instanceof SipRequest) checkRequest(msg);
      }
    }
  });
});
