/** The two transports we speak. TLS and WebSocket are out of scope for now. */
export type TransportProtocol = 'udp' | 'tcp';

/** Where a message comes from or goes to: a transport, an IP address (or host name) and a port. */
export interface Endpoint {
  readonly transport: TransportProtocol;
  readonly host: string;
  readonly port: number;
}

/** Map key of an endpoint; IPv6 hosts are bracketed so the port stays unambiguous. */
export function endpointKey(e: Endpoint): string {
  return e.host.includes(':') ? `${e.transport}:[${e.host}]:${e.port}` : `${e.transport}:${e.host}:${e.port}`;
}

/** RFC 3261 §18.1.1: TCP (and TLS, SCTP) are reliable; UDP is not, so only UDP gets retransmission timers. */
export function isReliable(transport: TransportProtocol): boolean {
  return transport !== 'udp';
}

/** `Via` transport token (upper case) of an endpoint's transport. */
export function viaTransport(transport: TransportProtocol): string {
  return transport === 'udp' ? 'UDP' : 'TCP';
}
