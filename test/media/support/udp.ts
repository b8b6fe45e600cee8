import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { RtpPortAllocator } from '../../../src/media/rtp-port-allocator.ts';

/** A UDP socket on 127.0.0.1, on `port` or (0) a kernel-chosen one. */
export async function bindLoopback(port = 0): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.close();
      reject(error);
    };
    socket.once('error', onError);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', onError);
      resolve();
    });
  });
  return { socket, port: socket.address().port };
}

export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/**
 * An allocator over a small range around a port the kernel just handed out, so tests never hard-code ports; the
 * allocator itself skips any port of the range someone else holds.
 */
export async function loopbackAllocator(size = 16): Promise<RtpPortAllocator> {
  const { socket, port } = await bindLoopback();
  await closeSocket(socket);
  const start = Math.min(port - (port % 2), 65535 - size * 2 - 1);
  return new RtpPortAllocator(start, start + size * 2 + 1);
}

/** Collects datagrams until `count` arrived, or rejects after `timeoutMs`. */
export function receiveDatagrams(
  socket: Socket,
  count: number,
  timeoutMs = 3000,
): Promise<{ data: Buffer; from: RemoteInfo }[]> {
  return new Promise((resolve, reject) => {
    const received: { data: Buffer; from: RemoteInfo }[] = [];
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`received ${received.length} of ${count} datagrams in ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (data: Buffer, from: RemoteInfo): void => {
      received.push({ data, from });
      if (received.length < count) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(received);
    };
    socket.on('message', onMessage);
  });
}
