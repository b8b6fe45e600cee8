/**
 * One RTP endpoint: a UDP socket on a port from the configured range, the SSRC and sequence counter of what we
 * send, and symmetric RTP (RFC 4961): we send back to where the peer's packets come from, so a phone behind NAT
 * that advertised its private address still hears us.
 *
 * With `rtcp`, the session also binds port + 1, reads the peer's RTCP (sender reports feed LSR/DLSR, BYE is
 * noted), sends SR/RR reports when asked or every few seconds on the shared scheduler, and says BYE on close.
 * RTCP arriving on the RTP port (rtcp-mux) is read too.
 *
 * Latching follows the first source heard. Afterwards another source takes over only after a run of
 * RELATCH_PACKETS packets in sequence from it, and until then its packets are dropped: a stray or forged packet
 * cannot steal the call's audio (the "RTP bleed" attack on naive latching).
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { randomInt, randomUUID } from 'node:crypto';
import { buildRtpPacket, parseRtpPacket, RTP_HEADER_BYTES, RtpParseError } from './rtp-packet.ts';
import type { RtpPacket } from './rtp-packet.ts';
import type { RtpPortAllocator } from './rtp-port-allocator.ts';
import { RtpPortsExhaustedError } from './rtp-port-allocator.ts';
import { sharedFrameScheduler } from './frame-scheduler.ts';
import type { FrameScheduler, PacedHandle } from './frame-scheduler.ts';
import { ReceptionStatistics } from './reception-stats.ts';
import { buildBye, buildReport, ntpMiddle, ntpTime, parseRtcp, RtcpParseError } from './rtcp.ts';
import type { RtcpPacket, SenderInfo } from './rtcp.ts';
import type { ReceptionReport } from './reception-stats.ts';
import type { RemoteRtpEndpoint, RtpEndpoint } from './sdp.ts';

export interface RtpSessionOptions {
  readonly host: string;
  readonly allocator: RtpPortAllocator;
  /** Also bind the RTCP port (RTP port + 1) and speak RTCP there; off by default. */
  readonly rtcp?: boolean;
  /** RTCP CNAME (RFC 7022: random per session unless given). */
  readonly cname?: string;
  /** Where to send; a RemoteRtpEndpoint (from the SDP) also says where RTCP goes, else RTP port + 1. */
  readonly remote?: RtpEndpoint | RemoteRtpEndpoint;
  /** Send to the source of the peer's packets (symmetric RTP) and accept only that source; on by default. */
  readonly latch?: boolean;
  /** Socket errors after binding; without it they are kept in `stats.lastError`. */
  readonly onError?: (error: Error) => void;
}

export type RtpPacketListener = (packet: RtpPacket, from: RtpEndpoint) => void;
export type RtcpListener = (packets: readonly RtcpPacket[], from: RtpEndpoint) => void;

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
  /** Payload bytes sent (the SR octet count). */
  octetsSent: number;
  rtcpSent: number;
  rtcpReceived: number;
  /** RTCP datagrams that could not be read. */
  rtcpDiscarded: number;
  /** The peer said RTCP BYE: it has left, whatever the signalling says. */
  byeReceived: boolean;
}

/** Default RTCP report interval (RFC 3550 §6.2 minimum). */
const RTCP_INTERVAL_MS = 5000;

function rtcpEndpointOf(endpoint: RtpEndpoint | RemoteRtpEndpoint | null | undefined): RtpEndpoint | null {
  if (endpoint === null || endpoint === undefined) return null;
  if ('rtcpPort' in endpoint) return { address: endpoint.rtcpAddress, port: endpoint.rtcpPort };
  return { address: endpoint.address, port: endpoint.port + 1 };
}

/** RTCP packet types 192-223 in the second byte: RFC 5761 §4 demultiplexing on a shared port. */
function isRtcp(data: Buffer): boolean {
  const second = data[1];
  return data.length >= 8 && second !== undefined && second >= 192 && second <= 223;
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
    octetsSent: 0,
    rtcpSent: 0,
    rtcpReceived: 0,
    rtcpDiscarded: 0,
    byeReceived: false,
  };
  readonly cname: string;
  private sequence: number;
  private remoteEndpoint: RtpEndpoint | null;
  private latched: RtpEndpoint | undefined;
  /** A source that may be taking over: its SSRC, last sequence number and how many in-sequence packets it sent. */
  private candidate: { address: string; port: number; ssrc: number; sequence: number; count: number } | undefined;
  private readonly latch: boolean;
  private readonly listeners = new Set<RtpPacketListener>();
  private readonly reception = new ReceptionStatistics();
  private readonly rtcpListeners = new Set<RtcpListener>();
  private rtcpRemote: RtpEndpoint | null;
  private sentSinceReport = false;
  private lastSentTimestamp = 0;
  private lastSentAt = 0;
  private rtcpReports: PacedHandle | undefined;
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
    this.cname = options.cname ?? randomUUID();
    const remote = options.remote;
    this.remoteEndpoint = remote === undefined ? null : { address: remote.address, port: remote.port };
    this.rtcpRemote = rtcpEndpointOf(options.remote);
    this.latch = options.latch ?? true;
    socket.on('message', (data, from) => this.receive(data, from));
    socket.on('error', (error) => this.fail(error));
    rtcpSocket?.on('message', (data, from) => this.receiveRtcp(data, from));
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
  setRemote(endpoint: RtpEndpoint | RemoteRtpEndpoint | null): void {
    this.remoteEndpoint = endpoint === null ? null : { address: endpoint.address, port: endpoint.port };
    this.rtcpRemote = rtcpEndpointOf(endpoint);
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
    if (!this.transmit(this.socket, packet, remote)) return false;
    this.stats.packetsSent += 1;
    this.stats.octetsSent += packet.length - RTP_HEADER_BYTES;
    this.sentSinceReport = true;
    this.lastSentTimestamp = packet.readUInt32BE(4);
    this.lastSentAt = performance.now();
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

  /**
   * dgram throws synchronously for a destination it refuses outright (a port out of range from a broken SDP):
   * that becomes a session error, so a paced stream never throws out of the shared scheduler's tick.
   */
  private transmit(socket: Socket, data: Buffer, to: RtpEndpoint): boolean {
    try {
      socket.send(data, to.port, to.address);
      return true;
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }

  /** Subscribes to received RTP packets; returns the unsubscribe function. */
  onPacket(listener: RtpPacketListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to received RTCP compound packets; returns the unsubscribe function. */
  onRtcp(listener: RtcpListener): () => void {
    this.rtcpListeners.add(listener);
    return () => this.rtcpListeners.delete(listener);
  }

  private receive(data: Buffer, from: RemoteInfo): void {
    if (isRtcp(data)) {
      this.receiveRtcp(data, from);
      return;
    }
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

  private receiveRtcp(data: Buffer, from: RemoteInfo): void {
    let packets: RtcpPacket[];
    try {
      packets = parseRtcp(data);
    } catch (error) {
      if (!(error instanceof RtcpParseError)) throw error;
      this.stats.rtcpDiscarded += 1;
      return;
    }
    const source: RtpEndpoint = { address: from.address, port: from.port };
    // RTCP latches with RTP: reports go back to where the latched peer's RTCP comes from.
    if (this.latched === undefined || this.latched.address === source.address) this.rtcpRemote = source;
    this.stats.rtcpReceived += 1;
    const now = performance.now();
    for (const packet of packets) {
      if (packet.type === 'sr') {
        const { ntpSeconds, ntpFraction } = packet.sender;
        this.reception.noteSenderReport(packet.ssrc, ntpMiddle(ntpSeconds, ntpFraction), now);
      } else if (packet.type === 'bye') {
        const peer = this.reception.report()?.ssrc;
        if (peer === undefined || packet.ssrcs.includes(peer)) this.stats.byeReceived = true;
      }
    }
    for (const listener of this.rtcpListeners) listener(packets, source);
  }

  /**
   * Sends one SR (when we sent media since the last report) or RR, with a reception block once the peer's media
   * arrived. False without RTCP, without a remote, or once closed.
   */
  sendRtcpReport(): boolean {
    const remote = this.rtcpRemote;
    if (this.rtcpSocket === undefined || remote === null || this.closed !== undefined) return false;
    const now = performance.now();
    const block = this.reception.reportBlock(now);
    let sender: SenderInfo | undefined;
    if (this.sentSinceReport) {
      const ntp = ntpTime(Date.now());
      sender = {
        ntpSeconds: ntp.seconds,
        ntpFraction: ntp.fraction,
        // The RTP clock at this instant, extrapolated from the last packet sent (§6.4.1).
        rtpTimestamp: (this.lastSentTimestamp + Math.round((now - this.lastSentAt) * 8)) >>> 0,
        packetCount: this.stats.packetsSent,
        octetCount: this.stats.octetsSent,
      };
    }
    this.sentSinceReport = false;
    const report = buildReport({
      ssrc: this.ssrc,
      cname: this.cname,
      ...(sender !== undefined ? { sender } : {}),
      reports: block === undefined ? [] : [block],
    });
    if (!this.transmit(this.rtcpSocket, report, remote)) return false;
    this.stats.rtcpSent += 1;
    return true;
  }

  /** Sends reports every `intervalMs` on the scheduler until close(); idempotent. */
  startRtcpReports(scheduler: FrameScheduler = sharedFrameScheduler(), intervalMs = RTCP_INTERVAL_MS): void {
    if (this.rtcpReports !== undefined || this.rtcpSocket === undefined || this.closed !== undefined) return;
    const every = Math.max(1, Math.round(intervalMs / scheduler.frameMs));
    this.rtcpReports = scheduler.add({
      frame: (index) => {
        if (index > 0 && index % every === 0) this.sendRtcpReport();
      },
    });
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
      this.rtcpListeners.clear();
      this.rtcpReports?.stop();
      const rtcpSocket = this.rtcpSocket;
      const rtcpRemote = this.rtcpRemote;
      if (rtcpSocket !== undefined && rtcpRemote !== null) {
        // §6.6: tell the peer we leave; wait for the datagram to leave before the socket closes.
        const bye = buildBye({ ssrc: this.ssrc, cname: this.cname });
        await new Promise<void>((resolve) => {
          rtcpSocket.send(bye, rtcpRemote.port, rtcpRemote.address, (error) => {
            if (error) this.fail(error);
            else this.stats.rtcpSent += 1;
            resolve();
          });
        });
      }
      await Promise.all([closeSocket(this.socket), ...(rtcpSocket ? [closeSocket(rtcpSocket)] : [])]);
      this.allocator.release(this.localPort);
    })();
    return this.closed;
  }
}
