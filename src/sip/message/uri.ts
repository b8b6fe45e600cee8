/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966). `user` and `password` are kept unescaped (so `%3A` and `:`
 * compare equal, §19.1.4) and re-escaped by `formatUri`; parameters and headers are kept as written.
 */
import type { SipUri } from './types.ts';

const USER_CHARS = new Uint8Array(128);
const PASSWORD_CHARS = new Uint8Array(128);
const HOST_CHARS = new Uint8Array(128);
const PARAM_CHARS = new Uint8Array(128);
const HEADER_CHARS = new Uint8Array(128);
{
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const mark = "-_.!~*'()";
  const mark1 = (table: Uint8Array, chars: string): void => {
    for (const ch of chars) table[ch.charCodeAt(0)] = 1;
  };
  mark1(USER_CHARS, alnum + mark + '&=+$,;?/');
  mark1(PASSWORD_CHARS, alnum + mark + '&=+$,');
  mark1(HOST_CHARS, alnum + '-.');
  mark1(PARAM_CHARS, alnum + mark + '[]/:&+$');
  mark1(HEADER_CHARS, alnum + mark + '[]/?:+$');
}

function allowed(table: Uint8Array, text: string, allowEscapes: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 /* % */ && allowEscapes) {
      if (!isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (c >= 128 || table[c] !== 1) {
      return false;
    }
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function unescape(text: string): string {
  if (text.indexOf('%') === -1) return text;
  // %00 is legal (RFC 4475 escnull) and decodeURIComponent rejects non-UTF-8 sequences, so decode byte-wise.
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 37) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes).toString('latin1');
}

function escape(text: string, table: Uint8Array): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && table[c] === 1) out += text[i];
    else out += '%' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Parses `host[:port]`; IPv6 references keep their brackets in `host`. */
function parseHostPort(text: string): { host: string; port?: number } | null {
  let host: string;
  let rest: string;
  if (text.charCodeAt(0) === 91 /* [ */) {
    const close = text.indexOf(']');
    if (close === -1) return null;
    host = text.slice(0, close + 1);
    if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host)) return null;
    rest = text.slice(close + 1);
  } else {
    const colon = text.indexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    rest = colon === -1 ? '' : text.slice(colon);
    if (host.length === 0 || !allowed(HOST_CHARS, host, false)) return null;
  }
  if (rest.length === 0) return { host };
  if (rest.charCodeAt(0) !== 58 || !/^:\d{1,5}$/.test(rest)) return null;
  const port = Number(rest.slice(1));
  if (port > 65535) return null;
  return { host, port };
}

function parseUriParams(text: string, into: Record<string, string | null>): boolean {
  for (const part of text.split(';')) {
    if (part.length === 0) return false;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? null : part.slice(eq + 1);
    if (name.length === 0 || !allowed(PARAM_CHARS, name, true)) return false;
    if (value !== null && !allowed(PARAM_CHARS, value, true)) return false;
    into[name.toLowerCase()] = value;
  }
  return true;
}

function parseUriHeaders(text: string, into: Record<string, string>): boolean {
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return false;
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (!allowed(HEADER_CHARS, name, true) || !allowed(HEADER_CHARS, value, true)) return false;
    into[name] = value;
  }
  return true;
}

/** Returns null for a malformed URI; schemes other than sip, sips and tel are accepted as opaque. */
export function parseUri(text: string): SipUri | null {
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'tel') return parseTel(text.slice(colon + 1));
  if (scheme !== 'sip' && scheme !== 'sips') return parseOpaque(scheme, text.slice(colon + 1));
  let rest = text.slice(colon + 1);
  const uri: SipUri = { scheme, host: '', params: {}, headers: {} };
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    // The password separator is the first ':' (a user part may not contain one unescaped).
    const pw = userinfo.indexOf(':');
    const user = pw === -1 ? userinfo : userinfo.slice(0, pw);
    if (user.length === 0 || !allowed(USER_CHARS, user, true)) return null;
    uri.user = unescape(user);
    if (pw !== -1) {
      const password = userinfo.slice(pw + 1);
      if (!allowed(PASSWORD_CHARS, password, true)) return null;
      uri.password = unescape(password);
    }
  }
  const q = rest.indexOf('?');
  if (q !== -1) {
    if (!parseUriHeaders(rest.slice(q + 1), uri.headers)) return null;
    rest = rest.slice(0, q);
  }
  const semi = rest.indexOf(';');
  if (semi !== -1) {
    if (!parseUriParams(rest.slice(semi + 1), uri.params)) return null;
    rest = rest.slice(0, semi);
  }
  const hp = parseHostPort(rest);
  if (hp === null) return null;
  uri.host = hp.host;
  if (hp.port !== undefined) uri.port = hp.port;
  return uri;
}

function parseTel(rest: string): SipUri | null {
  const semi = rest.indexOf(';');
  const number = semi === -1 ? rest : rest.slice(0, semi);
  if (!/^\+?[0-9A-Fa-f*#.()-]+$/.test(number)) return null;
  const uri: SipUri = { scheme: 'tel', user: number, host: '', params: {}, headers: {} };
  if (semi !== -1 && !parseUriParams(rest.slice(semi + 1), uri.params)) return null;
  return uri;
}

function parseOpaque(scheme: string, rest: string): SipUri | null {
  if (!/^[a-z][a-z0-9+\-.]*$/.test(scheme) || rest.length === 0 || /[\s<>"]/.test(rest)) return null;
  return { scheme, opaque: rest, host: '', params: {}, headers: {} };
}

export function formatUri(uri: SipUri): string {
  if (uri.opaque !== undefined) return `${uri.scheme}:${uri.opaque}`;
  if (uri.scheme === 'tel') {
    let out = `tel:${uri.user ?? ''}`;
    for (const name in uri.params) {
      const v = uri.params[name];
      out += v === null || v === undefined ? `;${name}` : `;${name}=${v}`;
    }
    return out;
  }
  let out = uri.scheme + ':';
  if (uri.user !== undefined) {
    out += escape(uri.user, USER_CHARS);
    if (uri.password !== undefined) out += ':' + escape(uri.password, PASSWORD_CHARS);
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += ':' + uri.port;
  for (const name in uri.params) {
    const v = uri.params[name];
    out += v === null || v === undefined ? `;${name}` : `;${name}=${v}`;
  }
  let sep = '?';
  for (const name in uri.headers) {
    out += `${sep}${name}=${uri.headers[name]}`;
    sep = '&';
  }
  return out;
}
