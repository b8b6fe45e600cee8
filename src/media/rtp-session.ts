/**
 * One RTP endpoint: a UDP socket on a port from the configured range, the SSRC and sequence counter of what we
 * send, and symmetric RTP (RFC 4961): we send back to where the peer's packets come from, so a phone behind NAT
 * that advertised its private address still hears us.
 *
 * Latching follows the first source heard. Afterwards another source takes over only after a run of
 * RELATCH_PACKETS packets in sequence from it, and until then its packets are dropped: a stray or forged packet
 * cannot steal the call's audio (the "RTP bleed" attack on naive latching).
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { parseRtpPacket, RtpParseError, buildRtpPacket } from './rtp-packet.ts';
import type { RtpPacket } from './rtp-packet.ts';
import type { RtpPortAllocator } from './rtp-port-allocator.ts';
import { RtpPortsExhaustedError } from './rtp-port-allocator.ts';
import { ReceptionStatistics } from './reception-stats.ts';
import type { ReceptionReport } from './reception-stats.ts';
import type { RtpEndpoint } from './sdp.ts';

export interface RtpSessionOptions {
  readonly host: string;
  readonly allocator: RtpPortAllocator;
  /** Also bind the RTCP port (RTP port + 1), so nobody else takes it; off by default. */
  readonly rtcp?: boolean;
  readonly remote?: RtpEndpoint;
  /** Send to the source of the peer's packets (symmetric RTP) and accept only that source; on by default. */
  readonly latch?: boolean;
  /** Socket errors after binding; without it they are kept in `stats.lastError`. */
  readonly onError?: (error: Error) => void;
}

export type RtpPacketListener = (packet: RtpPacket, from: RtpEndpoint) => void;

export interface RtpSessionStats {
  packetsSent: number;
  packetsReceived: number;
  /** Datagrams that were not RTP (or were RTCP on a shared port). */
  packetsDiscarded: number;
  /** RTP from a source other than the latched one, dropped. */
  packetsFromOtherSources: number;
  /** Sends attempted while no remote endpoint was known. */
  packetsUnsent: number;
  errors: number;
  lastError: Error | undefined;
  /** performance.now() of the peer's last accepted packet: how a call notices its media died. */
  lastReceivedAt: number | undefined;
}

/** In-sequence packets a new source must send before it replaces the latched one. */
export const RELATCH_PACKETS = 4;

function bindSocket(socket: Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ address: host, port, exclusive: true });
  });
}

function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

export class RtpSession {
  readonly localHost: string;
  readonly localPort: number;
  /** RFC 3550 §8.1: chosen at random per session. */
  readonly ssrc: number;
  /** RFC 3550 §5.1: the first timestamp is random too. */
  readonly timestampBase: number;
  readonly stats: RtpSessionStats = {
    packetsSent: 0,
    packetsReceived: 0,
    packetsDiscarded: 0,
    packetsFromOtherSources: 0,
    packetsUnsent: 0,
    errors: 0,
    lastError: undefined,
    lastReceivedAt: undefined,
  };
  private sequence: number;
  private remoteEndpoint: RtpEndpoint | null;
  private latched: RtpEndpoint | undefined;
  /** A source that may be taking over: its SSRC, last sequence number and how many in-sequence packets it sent. */
  private candidate: { address: string; port: number; ssrc: number; sequence: number; count: number } | undefined;
  private readonly latch: boolean;
  private readonly listeners = new Set<RtpPacketListener>();
  private readonly reception = new ReceptionStatistics();
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly rtcpSocket: Socket | undefined,
    private readonly allocator: RtpPortAllocator,
    host: string,
    port: number,
    private readonly options: RtpSessionOptions,
  ) {
    this.localHost = host;
    this.localPort = port;
    this.ssrc = randomInt(0, 2 ** 32 - 1);
    this.timestampBase = randomInt(0, 2 ** 32 - 1);
    this.sequence = randomInt(0, 0x10000);
    this.remoteEndpoint = options.remote ?? null;
    this.latch = options.latch ?? true;
    socket.on('message', (data, from) => this.receive(data, from));
    socket.on('error', (error) => this.fail(error));
    rtcpSocket?.on('error', (error) => this.fail(error));
  }

  /**
   * Binds the next free port of the allocator. A port some other process holds (EADDRINUSE) goes back to the end
   * of the queue and the next one is tried, once around the range at most.
   */
  static async open(options: RtpSessionOptions): Promise<RtpSession> {
    const { allocator, host } = options;
    const type = host.includes(':') ? 'udp6' : 'udp4';
    for (let attempt = 0; attempt < allocator.capacity; attempt++) {
      const port = allocator.allocate();
      const socket = createSocket({ type });
      try {
        await bindSocket(socket, host, port);
      } catch (error) {
        allocator.release(port);
        await closeSocket(socket);
        if (isAddressInUse(error)) continue;
        throw error;
      }
      if (options.rtcp !== true) return new RtpSession(socket, undefined, allocator, host, port, options);
      const rtcpSocket = createSocket({ type });
      try {
        await bindSocket(rtcpSocket, host, port + 1);
      } catch (error) {
        allocator.release(port);
        await Promise.all([closeSocket(socket), closeSocket(rtcpSocket)]);
        if (isAddressInUse(error)) continue;
        throw error;
      }
      return new RtpSession(socket, rtcpSocket, allocator, host, port, options);
    }
    throw new RtpPortsExhaustedError(allocator.min, allocator.max);
  }

  get remote(): RtpEndpoint | null {
    return this.remoteEndpoint;
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  /** Where to send, from signalling (SDP); latching starts over, as the peer may have moved. */
  setRemote(endpoint: RtpEndpoint | null): void {
    this.remoteEndpoint = endpoint;
    this.latched = undefined;
    this.candidate = undefined;
  }

  /** The sequence number for the next packet sent; senders building their own headers take it here. */
  nextSequence(): number {
    const value = this.sequence;
    this.sequence = (this.sequence + 1) & 0xffff;
    return value;
  }

  /** Sends a complete packet (header written by the caller) to the remote; false when there is none yet. */
  sendPacket(packet: Buffer): boolean {
    const remote = this.remoteEndpoint;
    if (remote === null || this.closed !== undefined) {
      this.stats.packetsUnsent += 1;
      return false;
    }
    this.socket.send(packet, remote.port, remote.address);
    this.stats.packetsSent += 1;
    return true;
  }

  /** Builds and sends one packet; allocates, so meant for occasional packets, not paced streams. */
  send(payload: Uint8Array, header: { payloadType: number; timestamp: number; marker?: boolean }): boolean {
    return this.sendPacket(
      buildRtpPacket(
        {
          marker: header.marker ?? false,
          payloadType: header.payloadType,
          sequenceNumber: this.nextSequence(),
          timestamp: header.timestamp,
          ssrc: this.ssrc,
        },
        payload,
      ),
    );
  }

  /** Subscribes to received RTP packets; returns the unsubscribe function. */
  onPacket(listener: RtpPacketListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private receive(data: Buffer, from: RemoteInfo): void {
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(data);
    } catch (error) {
      if (!(error instanceof RtpParseError)) throw error;
      this.stats.packetsDiscarded += 1;
      return;
    }
    this.stats.packetsReceived += 1;
    const source: RtpEndpoint = { address: from.address, port: from.port };
    if (this.latch && !this.accept(packet, source)) {
      this.stats.packetsFromOtherSources += 1;
      return;
    }
    const now = performance.now();
    this.stats.lastReceivedAt = now;
    this.reception.update(packet.ssrc, packet.sequenceNumber, packet.timestamp, now);
    for (const listener of this.listeners) listener(packet, source);
  }

  /** Loss and jitter of the peer's current stream (RFC 3550 §6.4.1); undefined before its first packet. */
  receptionReport(): ReceptionReport | undefined {
    return this.reception.report();
  }

  /** Latching: whether a packet's source is (or has just become) the peer. */
  private accept(packet: RtpPacket, source: RtpEndpoint): boolean {
    const latched = this.latched;
    if (latched !== undefined && latched.address === source.address && latched.port === source.port) return true;
    if (latched !== undefined) {
      const candidate = this.candidate;
      if (
        candidate !== undefined &&
        candidate.address === source.address &&
        candidate.port === source.port &&
        candidate.ssrc === packet.ssrc &&
        packet.sequenceNumber === ((candidate.sequence + 1) & 0xffff)
      ) {
        candidate.sequence = packet.sequenceNumber;
        candidate.count += 1;
      } else {
        this.candidate = { ...source, ssrc: packet.ssrc, sequence: packet.sequenceNumber, count: 1 };
      }
      if ((this.candidate?.count ?? 0) < RELATCH_PACKETS) return false;
    }
    this.latched = source;
    this.candidate = undefined;
    this.remoteEndpoint = source;
    return true;
  }

  private fail(error: Error): void {
    this.stats.errors += 1;
    this.stats.lastError = error;
    this.options.onError?.(error);
  }

  /** Closes the sockets and gives the port back; calling it again returns the same promise. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.listeners.clear();
      await Promise.all([closeSocket(this.socket), ...(this.rtcpSocket ? [closeSocket(this.rtcpSocket)] : [])]);
      this.allocator.release(this.localPort);
    })();
    return this.closed;
  }
}
