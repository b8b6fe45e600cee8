/**
 * A registrar binding (RFC 3261 §10.3): one Contact of one extension, with where the REGISTER came from. The source
 * is kept because a phone behind NAT writes a private Contact that nobody outside its LAN can reach; requests
 * for it go back where the REGISTER came from (the RFC 3581 rport/received path), as Kamailio's fix_nated_contact
 * and Asterisk's rewrite_contact do.
 */
import type { Endpoint } from '../../sip/transport/endpoint.ts';

export interface Binding {
  readonly accountId: string;
  /** The Contact URI as the phone wrote it; what the Request-URI of a call to it carries. */
  readonly contact: string;
  readonly callId: string;
  readonly cseq: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  readonly registeredAt: number;
  /** Transport, address and port the REGISTER arrived from. */
  readonly source: Endpoint;
  readonly q: number | null;
  readonly userAgent: string | null;
}

/** A binding as the call layer uses it: the Request-URI and the endpoint to send the request to. */
export interface Location {
  readonly accountId: string;
  readonly contact: string;
  readonly sendTo: Endpoint;
  readonly expiresAt: number;
}

/**
 * Where a request for this binding goes. Over TCP, back into the connection the phone opened (its Contact port is
 * rarely the one it connected from). Over UDP, to the Contact when the phone wrote the address it sends from
 * (only the listening port may differ), else to the source: a Contact naming another host is private, behind NAT,
 * or a name we would have to resolve to reach a phone that has already shown us where it is.
 */
export function deliveryEndpoint(binding: Pick<Binding, 'contact' | 'source'>): Endpoint {
  const { source } = binding;
  if (source.transport === 'tcp') return source;
  const target = contactHostPort(binding.contact);
  if (target === null || target.host !== source.host.toLowerCase()) return source;
  return { transport: source.transport, host: source.host, port: target.port ?? 5060 };
}

/** Host (lower-cased, IPv6 without brackets) and port of a sip:/sips: URI; null when it is not one. */
export function contactHostPort(uri: string): { readonly host: string; readonly port: number | undefined } | null {
  const m = /^sips?:(?:[^@]*@)?(\[[0-9a-fA-F:.]+\]|[^:;?>]+)(?::(\d+))?/i.exec(uri.trim());
  if (!m || m[1] === undefined) return null;
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host: host.toLowerCase(), port: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * The key two Contacts are the same binding by (RFC 3261 §10.3 step 6 compares URIs by §19.1.4): scheme and host
 * are case-insensitive, the user part is not. Parameters are kept as written; phones repeat their own Contact
 * byte for byte, which is what matters for refreshes.
 */
export function contactKey(uri: string): string {
  const m = /^(sips?):(?:([^@]*)@)?([^;?]*)(.*)$/i.exec(uri.trim());
  if (!m) return uri.trim();
  const [, scheme = '', user, hostport = '', rest = ''] = m;
  return `${scheme.toLowerCase()}:${user === undefined ? '' : `${user}@`}${hostport.toLowerCase()}${rest}`;
}

