/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966). `user` and `password` are kept unescaped (so `%3A` and `:`
 * compare equal, §19.1.4) and re-escaped by `formatUri`; parameters and headers are kept as written.
 */
import type { SipUri } from './types.ts';
import { paramName } from './syntax.ts';

export const USER_CHARS = new Uint8Array(128);
export const PASSWORD_CHARS = new Uint8Array(128);
export const HOST_CHARS = new Uint8Array(128);
export const PARAM_CHARS = new Uint8Array(128);
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
  // Nearly every user part needs no escape: returned as it is, not rebuilt a character at a time.
  let plain = true;
  for (let i = 0; i < text.length && plain; i++) {
    const c = text.charCodeAt(i);
    plain = c < 128 && table[c] === 1;
  }
  if (plain) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && table[c] === 1) out += text[i];
    else out += '%' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
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

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Returns null for a malformed URI; schemes other than sip, sips and tel are accepted as opaque. One pass over
 * the text with character tables: this runs for the Request-URI, From and To of every message.
 */
export function parseUri(text: string): SipUri | null {
  let scheme: string;
  let pos: number;
  if (text.startsWith('sip:')) {
    scheme = 'sip';
    pos = 4;
  } else if (text.startsWith('sips:')) {
    scheme = 'sips';
    pos = 5;
  } else {
    const colon = text.indexOf(':');
    if (colon <= 0) return null;
    scheme = text.slice(0, colon).toLowerCase();
    if (scheme === 'tel') return parseTel(text.slice(colon + 1));
    if (scheme !== 'sip' && scheme !== 'sips') return parseOpaque(scheme, text.slice(colon + 1));
    pos = colon + 1;
  }
  const len = text.length;
  let user: string | undefined;
  let password: string | undefined;
  let port: number | undefined;
  const params: Record<string, string | null> = {};
  const headers: Record<string, string> = {};

  // userinfo runs to the last '@' (the user part may contain ';', '?' and '/', the host part no '@').
  const at = text.lastIndexOf('@');
  if (at >= pos) {
    let pw = -1;
    let escaped = false;
    for (let i = pos; i < at; i++) {
      const c = text.charCodeAt(i);
      if (c === 58 /* : */ && pw === -1) {
        pw = i;
      } else if (c === 37 /* % */) {
        if (!isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2)) || i + 2 >= at) return null;
        escaped = true;
        i += 2;
      } else if (c >= 128 || (pw === -1 ? USER_CHARS[c] : PASSWORD_CHARS[c]) !== 1) {
        return null;
      }
    }
    const userEnd = pw === -1 ? at : pw;
    if (userEnd === pos) return null;
    user = text.slice(pos, userEnd);
    if (escaped) user = unescape(user);
    if (pw !== -1) {
      password = text.slice(pw + 1, at);
      if (escaped) password = unescape(password);
    }
    pos = at + 1;
  }

  // host
  const hostStart = pos;
  if (text.charCodeAt(pos) === 91 /* [ */) {
    const close = text.indexOf(']', pos);
    if (close === -1) return null;
    for (let i = pos + 1; i < close; i++) {
      const c = text.charCodeAt(i);
      if (!isHex(c) && c !== 58 && c !== 46) return null;
    }
    if (close === pos + 1) return null;
    pos = close + 1;
  } else {
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if (c < 128 && HOST_CHARS[c] === 1) pos++;
      else break;
    }
    if (pos === hostStart) return null;
  }
  const host = text.slice(hostStart, pos);

  // port
  if (pos < len && text.charCodeAt(pos) === 58) {
    const portStart = ++pos;
    let n = 0;
    while (pos < len && isDigit(text.charCodeAt(pos))) n = n * 10 + text.charCodeAt(pos++) - 48;
    if (pos === portStart || pos - portStart > 5 || n > 65535) return null;
    port = n;
  }

  // ;params
  while (pos < len && text.charCodeAt(pos) === 59) {
    const nameStart = ++pos;
    let upper = false;
    let escaped = false;
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if (c === 61 || c === 59 || c === 63) break;
      if (c === 37) escaped = true;
      else if (c >= 65 && c <= 90) upper = true;
      else if (c >= 128 || PARAM_CHARS[c] !== 1) return null;
      pos++;
    }
    if (pos === nameStart) return null;
    let name: string;
    if (escaped) {
      const rawName = text.slice(nameStart, pos);
      if (!allowed(PARAM_CHARS, rawName, true)) return null;
      name = rawName.toLowerCase();
    } else {
      name = upper ? text.slice(nameStart, pos).toLowerCase() : paramName(text, nameStart, pos);
    }
    if (pos < len && text.charCodeAt(pos) === 61) {
      const valueStart = ++pos;
      while (pos < len) {
        const c = text.charCodeAt(pos);
        if (c === 59 || c === 63) break;
        if (c >= 128 || (PARAM_CHARS[c] !== 1 && c !== 37)) return null;
        pos++;
      }
      const value = text.slice(valueStart, pos);
      if (value.indexOf('%') !== -1 && !allowed(PARAM_CHARS, value, true)) return null;
      params[name] = value;
    } else {
      params[name] = null;
    }
  }

  // ?headers
  if (pos < len) {
    if (text.charCodeAt(pos) !== 63 || !parseUriHeaders(text.slice(pos + 1), headers)) return null;
  }
  // One object literal with every field, so all SIP URIs share one shape.
  return { scheme, user, password, host, port, params, headers };
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
