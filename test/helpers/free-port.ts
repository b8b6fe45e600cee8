/** A port free right now on 127.0.0.1, for programs that cannot be told to bind port 0 (sipp, baresip). */
import { createServer } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * A -mp port for sipp: sipp binds four UDP ports from it at start-up (audio RTP and RTCP, video RTP and RTCP, each
 * in every mode), and exits if any is taken. Returns an even port whose four are free right now, none of them
 * `avoid` (the signalling port just chosen, which the OS may hand out again once released).
 */
export async function freeSippMediaPort(avoid = -1): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeUdpPort();
    if (port % 2 !== 0 || port + 3 > 65535 || (avoid >= port && avoid <= port + 3)) continue;
    const probes = await Promise.allSettled([0, 1, 2, 3].map((k) => bindUdp(port + k)));
    await Promise.all(probes.map((p) => (p.status === 'fulfilled' ? closeUdp(p.value) : undefined)));
    if (probes.every((p) => p.status === 'fulfilled')) return port;
  }
  throw new Error('no four free UDP ports in a row for sipp media');
}

function bindUdp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', (err) => {
      s.close();
      reject(err);
    });
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

function closeUdp(s: Socket): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}
