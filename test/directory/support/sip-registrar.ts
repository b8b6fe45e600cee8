/**
 * The registrar behind the real SIP stack on 127.0.0.1 (UDP transport, transaction layer, user agent), for
 * protocol tests with sipp and baresip.
 */
import { attachRegistrar } from '../../../src/directory/registrar/register-handler.ts';
import type { Registrar } from '../../../src/directory/registrar/registrar.ts';
import { TransportLayer } from '../../../src/sip/transport/transport-layer.ts';
import { UserAgent } from '../../../src/sip/ua/user-agent.ts';

export interface SipRegistrar {
  /** The UDP port. */
  readonly port: number;
  readonly tcpPort: number;
  close(): Promise<void>;
}

export async function startSipRegistrar(registrar: Registrar): Promise<SipRegistrar> {
  const transport = await TransportLayer.listen({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tcp', host: '127.0.0.1', port: 0 },
    ],
    publicHost: '127.0.0.1',
  });
  const ua = new UserAgent({ transport, t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
  attachRegistrar(ua, registrar);
  return {
    port: transport.localEndpoint('udp').port,
    tcpPort: transport.localEndpoint('tcp').port,
    close: async () => {
      ua.close();
      await transport.close();
    },
  };
}
