/**
 * The SIP face of the registrar: a REGISTER in, the response out. Syntax problems the registrar core never sees
 * (a Contact that does not parse, a non-numeric Expires) are answered 400 here. The user agent routes REGISTER
 * requests to `handleRegister` and sends what it returns back through the server transaction.
 */
import { createResponse, formatUri, newTag, type SipRequest, type SipResponse } from '../../sip/message/index.ts';
import { SipHeaderError } from '../../sip/message/errors.ts';
import type { Endpoint } from '../../sip/transport/endpoint.ts';
import type { RegisterAnswer, RegisterContact, RegisterRequest, Registrar } from './registrar.ts';

const DELTA_SECONDS = /^\d{1,10}$/;

export function handleRegister(registrar: Registrar, request: SipRequest, source: Endpoint): SipResponse {
  const parsed = toRegisterRequest(request, source);
  const answer = 'status' in parsed ? parsed : registrar.handle(parsed);
  return createResponse(request, answer.status, answer.reason, { toTag: newTag(), headers: answer.headers });
}

/** The registrar's view of a REGISTER, or the 400 it deserves. */
export function toRegisterRequest(request: SipRequest, source: Endpoint): RegisterRequest | RegisterAnswer {
  let toUser: string | undefined;
  let contacts: RegisterRequest['contacts'];
  let cseq: number;
  try {
    toUser = request.to.uri.user;
    cseq = request.cseq.seq;
    const parsed = request.contacts;
    if (parsed === '*') {
      contacts = '*';
    } else {
      const list: RegisterContact[] = [];
      for (const c of parsed) {
        const contact = toContact(formatUri(c.uri), c.params);
        if (contact === null) return badRequest('invalid Contact expires or q');
        list.push(contact);
      }
      contacts = list;
    }
  } catch (err) {
    if (err instanceof SipHeaderError) return badRequest(err.message);
    throw err;
  }
  if (toUser === undefined || toUser === '') return badRequest('To has no user part');
  const expiresHeader = request.get('expires');
  if (expiresHeader !== undefined && !DELTA_SECONDS.test(expiresHeader)) return badRequest('invalid Expires');
  const userAgent = request.get('user-agent');
  return {
    toUser,
    callId: request.callId,
    cseq,
    contacts,
    ...(expiresHeader === undefined ? {} : { expires: Number(expiresHeader) }),
    authorizations: request.getAll('authorization'),
    source,
    ...(userAgent === undefined ? {} : { userAgent }),
  };
}

function toContact(uri: string, params: Record<string, string | null>): RegisterContact | null {
  const expires = params['expires'];
  const q = params['q'];
  if (expires === null || (expires !== undefined && !DELTA_SECONDS.test(expires))) return null;
  if (q === null || (q !== undefined && !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(q))) return null;
  return {
    uri,
    ...(expires === undefined ? {} : { expires: Number(expires) }),
    ...(q === undefined ? {} : { q: Number(q) }),
  };
}

function badRequest(why: string): RegisterAnswer {
  return { status: 400, reason: `Bad Request (${why})`, headers: [] };
}

/** The user agent hands every out-of-dialog REGISTER to the registrar and answers through its server transaction. */
export function attachRegistrar(
  ua: { onRequest(method: string, handler: (req: SipRequest, tx: { respond(res: SipResponse): void }, source: Endpoint) => void): void },
  registrar: Registrar,
): void {
  ua.onRequest('REGISTER', (req, tx, source) => tx.respond(handleRegister(registrar, req, source)));
}
