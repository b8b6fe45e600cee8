/**
 * The registrar behind a real UDP socket on 127.0.0.1, for protocol tests: datagrams are parsed by the message
 * layer, REGISTERs go through `handleRegister`, responses go back to the source (where sipp and baresip listen).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { handleRegister } from '../../../src/directory/registrar/register-handler.ts';
import type { Registrar } from '../../../src/directory/registrar/registrar.ts';
import { parseMessage, SipRequest } from '../../../src/sip/message/index.ts';

export interface UdpRegistrar {
  readonly port: number;
  close(): Promise<void>;
}

export async function startUdpRegistrar(registrar: Registrar): Promise<UdpRegistrar> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (data, rinfo) => {
    const msg = parseMessage(data);
    if (!(msg instanceof SipRequest) || msg.method !== 'REGISTER') return;
    const response = handleRegister(registrar, msg, { transport: 'udp', host: rinfo.address, port: rinfo.port });
    socket.send(response.serialize(), rinfo.port, rinfo.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    port: socket.address().port,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
