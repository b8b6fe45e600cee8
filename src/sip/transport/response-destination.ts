import type { Via } from '../message/types.ts';
import type { SipRequest } from '../message/message.ts';
import type { Endpoint } from './endpoint.ts';

const DEFAULT_SIP_PORT = 5060;

/**
 * RFC 3261 §18.2.1 and RFC 3581 §4 on a request as it arrives: `received` when the Via host is not the source
 * address (always when `rport` asks for it), and `rport` filled with the source port when present without value.
 */
export function stampReceived(req: SipRequest, source: Endpoint): void {
  const via = req.topVia;
  const wantsRport = via.rport === true;
  // An IPv6 sent-by is bracketed in Via (RFC 3261 §25.1 IPv6reference); the socket address is not.
  const viaHost = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  const received = wantsRport || viaHost !== source.host ? source.host : undefined;
  if (received === undefined && !wantsRport) return;
  req.setTopViaParams({ received, rport: wantsRport ? source.port : undefined });
}

/**
 * Where a response goes when the connection its request came on is gone, or on UDP (RFC 3261 §18.2.2, RFC 3581
 * §4): the `received` address (else the Via host) and, on UDP, the `rport` value when the request asked for it,
 * else the Via port.
 */
export function responseDestination(via: Via, source: Endpoint): Endpoint {
  const host = via.received ?? via.host;
  const port = source.transport === 'udp' && typeof via.rport === 'number' ? via.rport : (via.port ?? DEFAULT_SIP_PORT);
  return { transport: source.transport, host, port };
}
