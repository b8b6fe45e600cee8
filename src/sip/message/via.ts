/** Via header values (RFC 3261 §20.42, RFC 3581 rport). */
import type { Via } from './types.ts';
import {
  PARAM_VALUE_BYTES,
  TOKEN_BYTES,
  formatParams,
  isTokenChar,
  paramNameIn,
  paramsScan,
  parseParams,
  parseParamsIn,
  setParam,
  skipWs,
  skipWsIn,
  type Params,
} from './syntax.ts';

function readToken(text: string, pos: number): number {
  while (pos < text.length && isTokenChar(text.charCodeAt(pos))) pos++;
  return pos;
}

function isUpperCase(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 97 && c <= 122) return false;
  }
  return true;
}

/** Parses one Via value (a single element of a comma-separated Via line). Returns null on a syntax error. */
export function parseVia(text: string): Via | null {
  const len = text.length;
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, with LWS allowed around the slashes.
  // The version is not checked here: a request line with another version is answered 505, and building that
  // response needs its Via.
  let pos: number;
  let end: number;
  if (text.startsWith('SIP/2.0/')) {
    pos = skipWs(text, 8);
  } else {
    pos = skipWs(text, 0);
    end = readToken(text, pos);
    if (end === pos) return null;
    pos = skipWs(text, end);
    if (text.charCodeAt(pos) !== 47) return null;
    pos = skipWs(text, pos + 1);
    end = readToken(text, pos);
    if (end === pos) return null;
    pos = skipWs(text, end);
    if (text.charCodeAt(pos) !== 47) return null;
    pos = skipWs(text, pos + 1);
  }
  end = readToken(text, pos);
  if (end === pos) return null;
  let transport = text.slice(pos, end);
  if (!isUpperCase(transport)) transport = transport.toUpperCase();
  pos = skipWs(text, end);
  // sent-by = host [ COLON port ]
  const hostStart = pos;
  let host: string;
  if (text.charCodeAt(pos) === 91) {
    const close = text.indexOf(']', pos);
    if (close === -1) return null;
    host = text.slice(pos, close + 1);
    if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host)) return null;
    pos = close + 1;
  } else {
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46) pos++;
      else break;
    }
    host = text.slice(hostStart, pos);
    if (host.length === 0) return null;
  }
  pos = skipWs(text, pos);
  let port: number | undefined;
  if (pos < len && text.charCodeAt(pos) === 58) {
    pos = skipWs(text, pos + 1);
    const portStart = pos;
    port = 0;
    while (pos < len && text.charCodeAt(pos) >= 48 && text.charCodeAt(pos) <= 57) port = port * 10 + text.charCodeAt(pos++) - 48;
    if (pos === portStart || pos - portStart > 5 || port > 65535) return null;
  }
  const params = parseParams(text, pos);
  if (params === null) return null;
  return finishVia(transport, host, port, params);
}

function readTokenIn(bytes: Uint8Array, pos: number, end: number): number {
  while (pos < end && TOKEN[bytes[pos] as number] === 1) pos++;
  return pos;
}

/** The transports seen in practice, returned as constants instead of a new string per Via. */
function knownTransport(bytes: Uint8Array, pos: number, end: number): string | undefined {
  const len = end - pos;
  const c0 = bytes[pos];
  if (len === 3) {
    const c1 = bytes[pos + 1];
    const c2 = bytes[pos + 2];
    if (c0 === 85 && c1 === 68 && c2 === 80) return 'UDP';
    if (c0 === 84 && c1 === 67 && c2 === 80) return 'TCP';
    if (c0 === 84 && c1 === 76 && c2 === 83) return 'TLS';
    if (c0 === 87 && c1 === 83 && c2 === 83) return 'WSS';
  } else if (len === 2 && c0 === 87 && bytes[pos + 1] === 83) {
    return 'WS';
  }
  return undefined;
}

/**
 * `parseVia(text.slice(start, end))`, reading characters from `bytes`, which holds the same characters one byte
 * each (an ASCII head and its latin1 decoding): the parser uses this for the top Via of every message, and
 * typed-array reads cost a fraction of `charCodeAt` on a string cut from a larger one.
 */
export function parseViaIn(bytes: Uint8Array, text: string, start: number, end: number): Via | null {
  const common = commonViaIn(bytes, text, start, end);
  if (common !== undefined) return common;
  let pos = start;
  let next: number;
  if (
    end - start >= 8 &&
    bytes[start] === 83 &&
    bytes[start + 1] === 73 &&
    bytes[start + 2] === 80 &&
    bytes[start + 3] === 47 &&
    bytes[start + 4] === 50 &&
    bytes[start + 5] === 46 &&
    bytes[start + 6] === 48 &&
    bytes[start + 7] === 47
  ) {
    // SIP/2.0/
    pos = skipWsIn(bytes, start + 8, end);
  } else {
    pos = skipWsIn(bytes, pos, end);
    next = readTokenIn(bytes, pos, end);
    if (next === pos) return null;
    pos = skipWsIn(bytes, next, end);
    if (pos >= end || bytes[pos] !== 47) return null;
    pos = skipWsIn(bytes, pos + 1, end);
    next = readTokenIn(bytes, pos, end);
    if (next === pos) return null;
    pos = skipWsIn(bytes, next, end);
    if (pos >= end || bytes[pos] !== 47) return null;
    pos = skipWsIn(bytes, pos + 1, end);
  }
  next = readTokenIn(bytes, pos, end);
  if (next === pos) return null;
  let transport = knownTransport(bytes, pos, next);
  if (transport === undefined) {
    transport = text.slice(pos, next);
    if (!isUpperCase(transport)) transport = transport.toUpperCase();
  }
  pos = skipWsIn(bytes, next, end);
  // sent-by = host [ COLON port ]
  const hostStart = pos;
  let host: string;
  if (pos < end && bytes[pos] === 91) {
    const close = text.indexOf(']', pos);
    if (close === -1 || close >= end) return null;
    host = text.slice(pos, close + 1);
    if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host)) return null;
    pos = close + 1;
  } else {
    while (pos < end && HOST_BYTES[bytes[pos] as number] === 1) pos++;
    if (pos === hostStart) return null;
    host = text.slice(hostStart, pos);
  }
  pos = skipWsIn(bytes, pos, end);
  let c: number;
  let port: number | undefined;
  if (pos < end && bytes[pos] === 58) {
    pos = skipWsIn(bytes, pos + 1, end);
    const portStart = pos;
    port = 0;
    while (pos < end && (c = bytes[pos] as number) >= 48 && c <= 57) {
      port = port * 10 + c - 48;
      pos++;
    }
    if (pos === portStart || pos - portStart > 5 || port > 65535) return null;
  }
  const params = parseParamsIn(bytes, text, pos, end);
  if (params === null) return null;
  return finishVia(transport, host, port, params);
}

/**
 * The Via nearly every client writes, read in one pass: `SIP/2.0/` and a known transport, one space, a host name
 * or IPv4 address, an optional port, then `;name` or `;name=value` parameters, with no white space, quotes or
 * brackets anywhere. Returns what `parseViaIn` returns for it (the same Via, the same `paramsScan`), or undefined
 * for anything else, which the general reading takes from the start.
 */
function commonViaIn(bytes: Uint8Array, text: string, start: number, end: number): Via | null | undefined {
  if (
    end - start < 13 ||
    bytes[start] !== 83 ||
    bytes[start + 1] !== 73 ||
    bytes[start + 2] !== 80 ||
    bytes[start + 3] !== 47 ||
    bytes[start + 4] !== 50 ||
    bytes[start + 5] !== 46 ||
    bytes[start + 6] !== 48 ||
    bytes[start + 7] !== 47
  ) {
    return undefined;
  }
  let pos = start + 8;
  while (pos < end && TOKEN[bytes[pos] as number] === 1) pos++;
  const transport = knownTransport(bytes, start + 8, pos);
  if (transport === undefined || bytes[pos] !== 32 || pos + 1 >= end) return undefined;
  const hostStart = ++pos;
  while (pos < end && HOST_BYTES[bytes[pos] as number] === 1) pos++;
  if (pos === hostStart) return undefined;
  const hostEnd = pos;
  let c = 0;
  let port: number | undefined;
  if (pos < end && bytes[pos] === 58) {
    const portStart = ++pos;
    port = 0;
    while (pos < end && (c = bytes[pos] as number) >= 48 && c <= 57) {
      port = port * 10 + c - 48;
      pos++;
    }
    if (pos === portStart || pos - portStart > 5 || port > 65535) return undefined;
  }
  const params: Params = {};
  let rportEnd = -1;
  while (pos < end) {
    if (bytes[pos] !== 59) return undefined;
    const nameStart = ++pos;
    while (pos < end && TOKEN[bytes[pos] as number] === 1) pos++;
    if (pos === nameStart) return undefined;
    if (rportEnd === -1 && bytes[nameStart] === 114 && pos - nameStart >= 5 && isRportAt(bytes, nameStart)) rportEnd = nameStart + 5;
    const name = paramNameIn(bytes, text, nameStart, pos);
    if (pos < end && bytes[pos] === 61) {
      const valueStart = ++pos;
      while (pos < end && PARAM_VALUE[bytes[pos] as number] === 1) pos++;
      if (pos === valueStart) return undefined;
      setParam(params, name, text.slice(valueStart, pos));
    } else {
      setParam(params, name, null);
    }
  }
  paramsScan.rportEnd = rportEnd;
  return finishVia(transport, text.slice(hostStart, hostEnd), port, params);
}

/** "rport" at bytes[at, at+5), as written (lower case). */
function isRportAt(bytes: Uint8Array, at: number): boolean {
  return bytes[at + 1] === 112 && bytes[at + 2] === 111 && bytes[at + 3] === 114 && bytes[at + 4] === 116;
}

// The imported tables as constants of this module (see syntax.ts: module-local constants are folded into the code).
const TOKEN = TOKEN_BYTES;
const PARAM_VALUE = PARAM_VALUE_BYTES;

/** Characters of a host name or IPv4 address, by byte. */
const HOST_BYTES = new Uint8Array(256);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.') HOST_BYTES[ch.charCodeAt(0)] = 1;

function finishVia(transport: string, host: string, port: number | undefined, params: Record<string, string | null>): Via | null {
  const branch = params['branch'];
  const received = params['received'];
  const rportText = params['rport'];
  if (branch === null || received === null) return null;
  let rport: number | true | undefined;
  if (rportText === null) {
    rport = true;
  } else if (rportText !== undefined) {
    if (!/^\d{1,5}$/.test(rportText)) return null;
    rport = Number(rportText);
  }
  // One object literal with every field, so all Vias share one shape.
  return { transport, host, port, branch, received, rport, params };
}

/**
 * Formats a Via. The typed fields win over `params` (so `via.received = x` is enough); other parameters keep
 * their order.
 */
export function formatVia(via: Via): string {
  const params: Record<string, string | null> = { ...via.params };
  if (via.branch !== undefined) params['branch'] = via.branch;
  if (via.received !== undefined) params['received'] = via.received;
  if (via.rport !== undefined) params['rport'] = via.rport === true ? null : String(via.rport);
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `SIP/2.0/${via.transport} ${via.host}${port}${formatParams(params)}`;
}
