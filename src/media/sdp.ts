/**
 * SDP offer/answer for audio (RFC 3264 on RFC 4566). Peers' SDP is read by a scanner of the few lines negotiation
 * needs (v, o, c, m, a=rtpmap, a=rtcp, direction), which falls back to sdp-transform for anything it would not read
 * exactly as sdp-transform does; ours is written directly as text: it is always the same handful of lines, and
 * sdp-transform's generic writer cost more than the rest of an answer put together.
 *
 * The PBX speaks G.711 (PCMU, PCMA) and RFC 4733 telephone-event only, so negotiation is: take the first audio
 * stream of the offer that shares a G.711 codec with us, answer it with the offerer's payload numbers, reject every
 * other stream with port 0 (RFC 3264 §6: the answer has as many m= lines as the offer, in the same order).
 */
import { parse } from 'sdp-transform';
import type { SessionDescription } from 'sdp-transform';
import { randomInt } from 'node:crypto';

export type { SessionDescription } from 'sdp-transform';

export type AudioCodecName = 'PCMU' | 'PCMA';
export type SupportedCodecName = AudioCodecName | 'telephone-event';
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** A negotiated audio codec: what the RTP sender writes in PT and how fast the timestamp runs. */
export interface NegotiatedCodec {
  readonly name: AudioCodecName;
  readonly payloadType: number;
  readonly clockRate: number;
}

export interface RtpEndpoint {
  readonly address: string;
  readonly port: number;
}

/** Where the peer wants RTP and RTCP sent. */
export interface RemoteRtpEndpoint extends RtpEndpoint {
  readonly rtcpAddress: string;
  readonly rtcpPort: number;
}

/** The SDP text could not be read as a session description. */
export class SdpParseError extends Error {
  override readonly name = 'SdpParseError';
  constructor(readonly reason: string) {
    super(`invalid SDP: ${reason}`);
  }
}

/** The offer has no audio stream we can speak: the SIP layer answers 488 Not Acceptable Here. */
export class NoCommonCodecError extends Error {
  override readonly name = 'NoCommonCodecError';
  constructor(readonly offered: readonly string[]) {
    super(`no common audio codec (offered: ${offered.length > 0 ? offered.join(', ') : 'none'})`);
  }
}

/** RFC 3551 §6 static payload types, used when an offer lists them without a=rtpmap. */
const STATIC_PAYLOAD_TYPES: Readonly<Record<number, { codec: string; rate: number }>> = {
  0: { codec: 'PCMU', rate: 8000 },
  8: { codec: 'PCMA', rate: 8000 },
};

const OUR_PAYLOAD_TYPES: Readonly<Record<SupportedCodecName, number>> = { PCMU: 0, PCMA: 8, 'telephone-event': 101 };
const DTMF_EVENTS = '0-16';
const G711_CLOCK_RATE = 8000;

/** Parses SDP text; rejects text without the mandatory v=, o= and at least one m= line. */
export function parseSdp(text: string): SessionDescription {
  if (!/^v=0\s*$/m.test(text)) throw new SdpParseError('missing v=0');
  let session: SessionDescription;
  try {
    session = parse(text);
  } catch (error) {
    throw new SdpParseError(error instanceof Error ? error.message : String(error));
  }
  if (session.origin === undefined) throw new SdpParseError('missing o=');
  if (!Array.isArray(session.media) || session.media.length === 0) throw new SdpParseError('no m= line');
  for (const media of session.media) {
    if (!Number.isInteger(media.port) || media.port < 0 || media.port > 65535) {
      throw new SdpParseError(`m=${media.type} port ${String(media.port)}`);
    }
  }
  return session;
}

/** What negotiation reads of a session: the fields of sdp-transform's description it uses, nothing else. */
interface OfferedSession {
  readonly connection?: { readonly ip: string };
  readonly direction?: MediaDirection;
  readonly media: readonly OfferedMedia[];
}

interface OfferedMedia {
  readonly type: string;
  readonly port: number;
  readonly protocol: string;
  readonly payloads?: string | number;
  readonly rtp: readonly { readonly payload: number; readonly codec: string; readonly rate?: number }[];
  readonly connection?: { readonly ip: string };
  readonly direction?: MediaDirection;
  readonly rtcp?: { readonly port: number; readonly address?: string };
}

interface ScannedMedia {
  type: string;
  port: number;
  protocol: string;
  payloads: string | undefined;
  rtp: { payload: number; codec: string; rate?: number }[];
  connection?: { ip: string };
  direction?: MediaDirection;
  rtcp?: { port: number; address?: string };
}

// sdp-transform's own grammar for these lines, so that a line is read the same way or not at all.
const ORIGIN = /^(\S*) (\d*) (\d*) (\S*) IP(\d) (\S*)/;
const CONNECTION = /^IN IP(\d) (\S*)/;
const MEDIA = /^(\w*) (\d*) ([\w/]*)(?: (.*))?/;
const RTPMAP = /^rtpmap:(\d*) ([\w\-.]*)(?:\s*\/(\d*)(?:\s*\/(\S*))?)?/;
const RTCP = /^rtcp:(\d*)(?: (\S*) IP(\d) (\S*))?/;

/** sdp-transform turns a capture that reads back as the same number into that number: these stay strings. */
function isText(value: string): boolean {
  // Ports and payload types are short runs of digits without a leading zero: those read back as themselves,
  // which is known without making a number and a string of it.
  const length = value.length;
  if (length > 0 && length < 16) {
    const first = value.charCodeAt(0);
    if ((first > 48 && first <= 57) || (first === 48 && length === 1)) {
      let i = 1;
      while (i < length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) i++;
      if (i === length) return false;
    }
  }
  return String(Number(value)) !== value;
}

/** A capture sdp-transform keeps as a number (`toIntIfInt`), as a number; NaN when it would stay a string. */
function asNumber(value: string): number {
  return isText(value) ? NaN : Number(value);
}

/** The direction attribute whose value starts at `at`, as sdp-transform reads it (by prefix). */
function directionAt(text: string, at: number): MediaDirection | undefined {
  if (text.startsWith('sendrecv', at)) return 'sendrecv';
  if (text.startsWith('sendonly', at)) return 'sendonly';
  if (text.startsWith('recvonly', at)) return 'recvonly';
  if (text.startsWith('inactive', at)) return 'inactive';
  return undefined;
}

/**
 * Reads the lines negotiation needs in one pass. Null when the text holds anything read otherwise by sdp-transform
 * (a lone CR, a value it would turn into a number or keep as a string where we expect the other, an m= or a=rtpmap
 * it would not match) or when parseSdp would refuse it: the caller then takes the slow path, which throws the
 * same errors and reads the odd cases as before.
 */
function scanSdp(text: string): OfferedSession | null {
  let version = false;
  let origin = false;
  let connection: { ip: string } | undefined;
  let sessionDirection: MediaDirection | undefined;
  const media: ScannedMedia[] = [];
  let current: ScannedMedia | null = null;
  // sdp-transform also ends lines at a lone CR: such text takes the slow path, and every CR left ends a line.
  for (let cr = text.indexOf('\r'); cr >= 0; cr = text.indexOf('\r', cr + 2)) {
    if (text.charCodeAt(cr + 1) !== 10) return null;
  }
  let start = 0;
  const end = text.length;
  while (start < end) {
    let stop = text.indexOf('\n', start);
    if (stop < 0) stop = end;
    const lineStart = start;
    const lineEnd = stop > start && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop;
    start = stop + 1;
    // Only the lines read below are cut out of the text; fmtp, ptime and the like are passed over in place.
    if (lineEnd - lineStart < 2 || text.charCodeAt(lineStart + 1) !== 61) continue;
    const at = lineStart + 2;
    switch (text.charCodeAt(lineStart)) {
      case 118: // v
        if (/^0\s*$/.test(text.slice(at, lineEnd))) version = true;
        break;
      case 111: // o
        if (current === null && !origin && ORIGIN.test(text.slice(at, lineEnd))) origin = true;
        break;
      case 99: {
        // c
        const m = CONNECTION.exec(text.slice(at, lineEnd));
        if (m === null) break;
        const ip = m[2]!;
        if (ip === '' || !isText(ip)) return null;
        if (current === null) connection = { ip };
        else current.connection = { ip };
        break;
      }
      case 109: {
        // m
        const m = MEDIA.exec(text.slice(at, lineEnd));
        if (m === null) return null;
        const port = asNumber(m[2]!);
        if (!Number.isInteger(port) || port < 0 || port > 65535) return null;
        current = { type: m[1]!, port, protocol: m[3]!, payloads: m[4], rtp: [] };
        media.push(current);
        break;
      }
      case 97: {
        // a
        if (text.startsWith('rtpmap:', at)) {
          if (current === null) break;
          const m = RTPMAP.exec(text.slice(at, lineEnd));
          if (m === null) return null;
          const payload = asNumber(m[1]!);
          const codec = m[2]!;
          const rate = m[3] === undefined ? undefined : asNumber(m[3]);
          if (Number.isNaN(payload) || Number.isNaN(rate) || !isText(codec)) return null;
          current.rtp.push(rate === undefined ? { payload, codec } : { payload, codec, rate });
        } else if (text.startsWith('rtcp:', at)) {
          if (current === null) break;
          const m = RTCP.exec(text.slice(at, lineEnd))!;
          const port = asNumber(m[1]!);
          const address = m[4];
          if (Number.isNaN(port) || (address !== undefined && (address === '' || !isText(address)))) return null;
          // A second a=rtcp updates the first, as sdp-transform does: an address it does not repeat is kept.
          const kept = address ?? current.rtcp?.address;
          current.rtcp = kept === undefined ? { port } : { port, address: kept };
        } else {
          const d = directionAt(text, at);
          if (d === undefined) break;
          if (current === null) sessionDirection = d;
          else current.direction = d;
        }
        break;
      }
    }
  }
  if (!version || !origin || media.length === 0) return null;
  return {
    ...(connection === undefined ? {} : { connection }),
    ...(sessionDirection === undefined ? {} : { direction: sessionDirection }),
    media,
  };
}

function asSession(sdp: string | SessionDescription): OfferedSession {
  if (typeof sdp !== 'string') return sdp;
  return scanSdp(sdp) ?? parseSdp(sdp);
}

/**
 * The o= line of one party across a dialog. RFC 3264 §8: each new SDP of the session carries the same session id
 * and a version one higher than the previous one.
 */
export class SdpSession {
  readonly sessionId: number;
  private version: number;

  constructor(sessionId: number = randomInt(1, 2 ** 47), version: number = randomInt(1, 2 ** 31)) {
    this.sessionId = sessionId;
    this.version = version - 1;
  }

  /** The version the next SDP carries; each call moves on by one. */
  nextVersion(): number {
    this.version += 1;
    return this.version;
  }

  get currentVersion(): number {
    return this.version;
  }
}

function ipVersion(host: string): 4 | 6 {
  return host.includes(':') ? 6 : 4;
}

/** One m= section we write: formats with their rtpmap, or none for a rejected stream. */
interface MediaSection {
  readonly type: string;
  readonly port: number;
  readonly protocol: string;
  /** Payload types listed on the m= line; a rejected stream still lists one (RFC 4566 §5.14 wants a format). */
  readonly payloads: readonly (number | string)[];
  readonly formats: readonly { readonly name: SupportedCodecName; readonly payloadType: number }[];
  readonly direction?: MediaDirection;
}

function writeSdp(host: string, session: SdpSession, sections: readonly MediaSection[]): string {
  const ip = `IN IP${ipVersion(host)} ${host}`;
  let text =
    `v=0\r\no=- ${session.sessionId} ${session.nextVersion()} ${ip}\r\ns=originate\r\n` + `c=${ip}\r\nt=0 0\r\n`;
  for (const section of sections) {
    text += `m=${section.type} ${section.port} ${section.protocol} ${section.payloads.join(' ')}\r\n`;
    for (const format of section.formats) {
      text += `a=rtpmap:${format.payloadType} ${format.name}/${G711_CLOCK_RATE}\r\n`;
      if (format.name === 'telephone-event') text += `a=fmtp:${format.payloadType} ${DTMF_EVENTS}\r\n`;
    }
    if (section.formats.length > 0) text += 'a=ptime:20\r\n';
    if (section.direction !== undefined) text += `a=${section.direction}\r\n`;
  }
  return text;
}

function audioSection(
  port: number,
  formats: readonly { name: SupportedCodecName; payloadType: number }[],
  direction: MediaDirection,
): MediaSection {
  return { type: 'audio', port, protocol: 'RTP/AVP', payloads: formats.map((f) => f.payloadType), formats, direction };
}

function rejectedSection(media: OfferedMedia): MediaSection {
  const first = String(media.payloads ?? '').split(' ')[0] ?? '';
  return { type: media.type, port: 0, protocol: media.protocol, payloads: first === '' ? [] : [first], formats: [] };
}

export interface OfferOptions {
  readonly host: string;
  readonly port: number;
  /** In order of preference; telephone-event is offered with events 0-16 when listed. */
  readonly codecs?: readonly SupportedCodecName[];
  readonly direction?: MediaDirection;
  /** Keeps o= across re-offers of one dialog; a fresh one when absent. */
  readonly session?: SdpSession;
}

/** An audio offer from the PBX. */
export function buildOffer(options: OfferOptions): string {
  const codecs = options.codecs ?? ['PCMU', 'PCMA', 'telephone-event'];
  const formats = codecs.map((name) => ({ name, payloadType: OUR_PAYLOAD_TYPES[name] }));
  return writeSdp(options.host, options.session ?? new SdpSession(), [
    audioSection(options.port, formats, options.direction ?? 'sendrecv'),
  ]);
}

interface OfferedFormat {
  readonly payloadType: number;
  readonly codec: string;
  readonly rate: number;
}

/** The formats of an m= line in the order listed, static payload types resolved without a=rtpmap. */
function offeredFormats(media: OfferedMedia): OfferedFormat[] {
  const formats: OfferedFormat[] = [];
  for (const listed of String(media.payloads ?? '').split(' ')) {
    if (listed === '') continue;
    const payloadType = Number(listed);
    const mapped = rtpmapOf(media, payloadType);
    if (mapped !== undefined) {
      formats.push({ payloadType, codec: mapped.codec, rate: mapped.rate ?? G711_CLOCK_RATE });
      continue;
    }
    const fixed = STATIC_PAYLOAD_TYPES[payloadType];
    if (fixed !== undefined) formats.push({ payloadType, codec: fixed.codec, rate: fixed.rate });
  }
  return formats;
}

function rtpmapOf(media: OfferedMedia, payloadType: number): OfferedMedia['rtp'][number] | undefined {
  for (const r of media.rtp) if (r.payload === payloadType) return r;
  return undefined;
}

function isRtpAudio(media: OfferedMedia): boolean {
  return media.type === 'audio' && media.port !== 0 && /^RTP\/AVP$|^RTP\/AVPF$/i.test(media.protocol);
}

/** Addresses that say "do not send to me": RFC 2543 hold, and its IPv6 form some phones write. */
function isNullAddress(address: string | undefined): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** The direction the peer declared for a stream, with RFC 2543 hold (c=0.0.0.0) read as "do not send to me". */
function declaredDirection(session: OfferedSession, media: OfferedMedia): MediaDirection {
  const direction = (media.direction ?? session.direction ?? 'sendrecv') as MediaDirection;
  if (!isNullAddress(media.connection?.ip ?? session.connection?.ip)) return direction;
  if (direction === 'sendrecv') return 'sendonly';
  if (direction === 'recvonly') return 'inactive';
  return direction;
}

const ANSWER_DIRECTION: Readonly<Record<MediaDirection, MediaDirection>> = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive',
};

export interface AnswerOptions {
  readonly host: string;
  readonly port: number;
  readonly supported?: readonly SupportedCodecName[];
  /** What we want; intersected with what the offer allows (e.g. we are holding). */
  readonly direction?: MediaDirection;
  readonly session?: SdpSession;
}

/** The outcome of negotiating one side's SDP against the other's. */
export interface Negotiated {
  readonly codec: NegotiatedCodec;
  /** Payload type of telephone-event when both sides support it. */
  readonly telephoneEvent?: number;
  /** Null when the peer wants nothing sent (port 0 or address 0.0.0.0). */
  readonly remote: RemoteRtpEndpoint | null;
  /** The direction of the peer's stream as it declared it (RFC 2543 hold folded in). */
  readonly remoteDirection: MediaDirection;
}

export interface Answer extends Negotiated {
  readonly sdp: string;
  /** The direction we answered with. */
  readonly direction: MediaDirection;
}

function combineDirections(wanted: MediaDirection, allowed: MediaDirection): MediaDirection {
  const send = (wanted === 'sendrecv' || wanted === 'sendonly') && (allowed === 'sendrecv' || allowed === 'sendonly');
  const recv = (wanted === 'sendrecv' || wanted === 'recvonly') && (allowed === 'sendrecv' || allowed === 'recvonly');
  if (send && recv) return 'sendrecv';
  if (send) return 'sendonly';
  if (recv) return 'recvonly';
  return 'inactive';
}

interface Choice {
  readonly index: number;
  readonly codec: NegotiatedCodec;
  readonly telephoneEvent: number | undefined;
}

/** A G.711 codec of ours that this format is (names compare case-insensitively). */
function speaks(supported: readonly SupportedCodecName[], format: OfferedFormat): boolean {
  if (format.rate !== G711_CLOCK_RATE) return false;
  for (const name of supported) if (name !== 'telephone-event' && name.toLowerCase() === format.codec.toLowerCase()) return true;
  return false;
}

/** The first audio stream sharing a codec with `supported`; the codec is the first of the peer's list we speak. */
function choose(session: OfferedSession, supported: readonly SupportedCodecName[]): Choice {
  const media = session.media;
  for (let index = 0; index < media.length; index++) {
    if (!isRtpAudio(media[index]!)) continue;
    const formats = offeredFormats(media[index]!);
    let audio: OfferedFormat | undefined;
    for (const f of formats) {
      if (speaks(supported, f)) {
        audio = f;
        break;
      }
    }
    if (audio === undefined) continue;
    let dtmf: OfferedFormat | undefined;
    if (supported.includes('telephone-event')) {
      for (const f of formats) {
        if (f.codec.toLowerCase() === 'telephone-event' && f.rate === G711_CLOCK_RATE) {
          dtmf = f;
          break;
        }
      }
    }
    return {
      index,
      codec: {
        name: audio.codec.toUpperCase() as AudioCodecName,
        payloadType: audio.payloadType,
        clockRate: audio.rate,
      },
      telephoneEvent: dtmf?.payloadType,
    };
  }
  // What was offered is listed only for the error: an answer that succeeds does not build it.
  const offered: string[] = [];
  for (const m of media) if (isRtpAudio(m)) for (const f of offeredFormats(m)) offered.push(`${f.codec}/${f.rate}`);
  throw new NoCommonCodecError(offered);
}

/** RFC 3264 §6: answers an offer, or throws NoCommonCodecError (the SIP layer then answers 488). */
export function buildAnswer(offer: string | SessionDescription, options: AnswerOptions): Answer {
  const offered = asSession(offer);
  const choice = choose(offered, options.supported ?? ['PCMU', 'PCMA', 'telephone-event']);
  const chosenMedia = offered.media[choice.index] as OfferedMedia;
  const remoteDirection = declaredDirection(offered, chosenMedia);
  const direction = combineDirections(options.direction ?? 'sendrecv', ANSWER_DIRECTION[remoteDirection]);

  const formats: { name: SupportedCodecName; payloadType: number }[] = [
    { name: choice.codec.name, payloadType: choice.codec.payloadType },
  ];
  if (choice.telephoneEvent !== undefined) {
    formats.push({ name: 'telephone-event', payloadType: choice.telephoneEvent });
  }
  const sections = offered.media.map((media, index) =>
    index === choice.index ? audioSection(options.port, formats, direction) : rejectedSection(media),
  );
  return {
    sdp: writeSdp(options.host, options.session ?? new SdpSession(), sections),
    codec: choice.codec,
    ...(choice.telephoneEvent !== undefined ? { telephoneEvent: choice.telephoneEvent } : {}),
    remote: endpointOf(offered, chosenMedia),
    remoteDirection,
    direction,
  };
}

/**
 * Reads the answer to an offer we sent: the codec the answerer picked (its first audio format that we offered),
 * telephone-event when kept, and where to send. Throws NoCommonCodecError when the answer rejected our audio.
 */
export function readAnswer(answer: string | SessionDescription, offered: readonly SupportedCodecName[]): Negotiated {
  const session = asSession(answer);
  const choice = choose(session, offered);
  const media = session.media[choice.index] as OfferedMedia;
  return {
    codec: choice.codec,
    ...(choice.telephoneEvent !== undefined ? { telephoneEvent: choice.telephoneEvent } : {}),
    remote: endpointOf(session, media),
    remoteDirection: declaredDirection(session, media),
  };
}

/** An answer refusing every stream of the offer (port 0), e.g. for an offer made only of video. */
export function rejectSdp(offer: string | SessionDescription, options: { host: string; session?: SdpSession }): string {
  const offered = asSession(offer);
  return writeSdp(options.host, options.session ?? new SdpSession(), offered.media.map(rejectedSection));
}

/**
 * Where to send RTP for the first live audio stream: media-level c= wins over session-level (RFC 4566 §5.7),
 * a=rtcp (RFC 3605) overrides the RTP port + 1 convention. Null when the stream is rejected (port 0), on hold by
 * c=0.0.0.0, or absent.
 */
export function remoteRtpEndpoint(sdp: string | SessionDescription): RemoteRtpEndpoint | null {
  const session = asSession(sdp);
  const media = session.media.find(isRtpAudio);
  return media === undefined ? null : endpointOf(session, media);
}

function endpointOf(session: OfferedSession, media: OfferedMedia): RemoteRtpEndpoint | null {
  const address = media.connection?.ip ?? session.connection?.ip;
  if (address === undefined || isNullAddress(address)) return null;
  return {
    address,
    port: media.port,
    rtcpAddress: media.rtcp?.address ?? address,
    rtcpPort: media.rtcp?.port ?? media.port + 1,
  };
}

/** The peer's declared direction for its first live audio stream; `inactive` when there is none. */
export function mediaDirection(sdp: string | SessionDescription): MediaDirection {
  const session = asSession(sdp);
  const media = session.media.find(isRtpAudio);
  return media === undefined ? 'inactive' : declaredDirection(session, media);
}

/** The peer is putting us on hold: it will not receive (a=sendonly, a=inactive, c=0.0.0.0, or no live audio). */
export function isHold(sdp: string | SessionDescription): boolean {
  const direction = mediaDirection(sdp);
  return direction === 'sendonly' || direction === 'inactive';
}
