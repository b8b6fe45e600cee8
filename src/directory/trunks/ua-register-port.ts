/**
 * REGISTER toward a trunk through the user agent. One Call-ID per trunk for the life of the process, CSeq rising
 * across refreshes (RFC 3261 §10.2.4 SHOULD), so the trunk's registrar sees refreshes of one binding rather than
 * new ones piling up. The Contact user is the trunk user name: providers route inbound calls to it.
 */
import type { Trunk } from '../../config/schema.ts';
import { newCallId, newTag, parseUri, SipHeaderError, type NameAddr, type SipResponse } from '../../sip/message/index.ts';
import type { UserAgent } from '../../sip/ua/user-agent.ts';
import type { RegisterOutcome, RegisterPort } from './register-port.ts';
import { trunkCredentials } from './trunk-manager.ts';

interface Dialogue {
  readonly callId: string;
  readonly fromTag: string;
  cseq: number;
}

export function uaRegisterPort(ua: Pick<UserAgent, 'request' | 'contact'>): RegisterPort {
  const dialogues = new Map<string, Dialogue>();
  return {
    async register(trunk: Trunk, expires: number): Promise<RegisterOutcome> {
      let d = dialogues.get(trunk.name);
      if (d === undefined) {
        d = { callId: newCallId(), fromTag: newTag(), cseq: 0 };
        dialogues.set(trunk.name, d);
      }
      // Room for the authorized retry, which takes the next number.
      d.cseq += 2;
      const credentials = trunkCredentials(trunk);
      const user = trunk.username ?? credentials?.username ?? 'originate';
      const hostPort = trunk.domain === trunk.host && trunk.port !== 5060 ? `${trunk.domain}:${trunk.port}` : trunk.domain;
      const aor = `sip:${user}@${trunk.domain}`;
      const contact = ua.contact(trunk.transport).replace(/^sip:[^@]*@/, `sip:${user}@`);
      const { response } = await ua.request({
        method: 'REGISTER',
        uri: `sip:${hostPort}`,
        destination: { transport: trunk.transport, host: trunk.host, port: trunk.port },
        from: aor,
        fromTag: d.fromTag,
        to: aor,
        callId: d.callId,
        cseq: d.cseq,
        headers: [
          ['Contact', `<${contact}>`],
          ['Expires', String(expires)],
        ],
        ...(credentials === undefined ? {} : { credentials }),
      });
      const granted = grantedExpires(response, contact) ?? numberOrUndefined(response.get('expires'));
      const minExpires = numberOrUndefined(response.get('min-expires'));
      return {
        status: response.status,
        reason: response.reason,
        ...(granted === undefined ? {} : { expires: granted }),
        ...(minExpires === undefined ? {} : { minExpires }),
      };
    },
  };
}

/** The expires parameter of the response Contact that is ours (§10.2.4: the registrar lists every binding). */
function grantedExpires(response: SipResponse, ours: string): number | undefined {
  const mine = parseUri(ours);
  let contacts: NameAddr[] | '*';
  try {
    contacts = response.contacts;
  } catch (err) {
    // A registrar that lists bindings we cannot parse still granted ours: fall back to its Expires header.
    if (err instanceof SipHeaderError) return undefined;
    throw err;
  }
  if (mine === null || contacts === '*') return undefined;
  const match = contacts.find(
    (c) => c.uri.user === mine.user && c.uri.host.toLowerCase() === mine.host.toLowerCase() && (c.uri.port ?? 5060) === (mine.port ?? 5060),
  );
  return numberOrUndefined(match?.params['expires']);
}

function numberOrUndefined(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null || !/^\d{1,10}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
