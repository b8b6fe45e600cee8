/**
 * name-addr / addr-spec values of From, To, Contact, Route, Record-Route, Reply-To (RFC 3261 §20.10, §25.1).
 */
import type { NameAddr } from './types.ts';
import { formatParams, isTokenChar, isWs, parseParams, quote, readQuoted, skipWs } from './syntax.ts';
import { HOST_CHARS, PARAM_CHARS, USER_CHARS, formatUri, parseUri } from './uri.ts';

/** Returns null on a syntax error or a URI that is not sip:, sips: or tel:. */
export function parseNameAddr(text: string): NameAddr | null {
  const len = text.length;
  let pos = skipWs(text, 0);
  let displayName: string | undefined;
  if (pos < len && text.charCodeAt(pos) === 34) {
    const q = readQuoted(text, pos);
    if (q === null) return null;
    displayName = q.value;
    pos = skipWs(text, q.end);
    if (pos >= len || text.charCodeAt(pos) !== 60) return null;
  }
  const lt = text.indexOf('<', pos);
  if (lt !== -1) {
    if (displayName === undefined && lt > pos) {
      // An unquoted display name is a sequence of tokens separated by LWS (RFC 4475 baddn).
      let end = lt;
      while (end > pos && isWs(text.charCodeAt(end - 1))) end--;
      let collapse = false;
      for (let i = pos; i < end; i++) {
        const c = text.charCodeAt(i);
        if (isWs(c)) {
          if (c !== 32 || isWs(text.charCodeAt(i + 1))) collapse = true;
        } else if (!isTokenChar(c)) {
          return null;
        }
      }
      if (end > pos) {
        const raw = text.slice(pos, end);
        displayName = collapse ? raw.replace(/\s+/g, ' ') : raw;
      }
    }
    const gt = text.indexOf('>', lt + 1);
    if (gt === -1) return null;
    const uri = parseUri(text.slice(lt + 1, gt));
    if (uri === null) return null;
    const params = parseParams(text, gt + 1);
    if (params === null) return null;
    return { displayName, uri, params };
  }
  // addr-spec: the URI runs to the first ';' and the rest are header parameters (§20). Such a URI may not carry
  // ',' '?' or ';' of its own, and may not contain white space (RFC 4475 regbadct, badaspec).
  const semi = text.indexOf(';', pos);
  const uriText = (semi === -1 ? text.slice(pos) : text.slice(pos, semi)).trimEnd();
  if (uriText.length === 0 || /[\s,?<>"]/.test(uriText)) return null;
  const uri = parseUri(uriText);
  if (uri === null) return null;
  const params = semi === -1 ? {} : parseParams(text, semi);
  if (params === null) return null;
  return { displayName: undefined, uri, params };
}

export function formatNameAddr(na: NameAddr): string {
  return nameAddrOf(na.displayName, formatUri(na.uri), formatParams(na.params));
}

/** formatNameAddr's text around a URI and parameters already written (`;name=value`...). */
export function nameAddrOf(displayName: string | undefined, uri: string, params: string): string {
  const name = displayName !== undefined && displayName !== '' ? quote(displayName) + ' ' : '';
  return `${name}<${uri}>${params}`;
}

/**
 * Whether `formatNameAddr(parseNameAddr(text))` is `text` itself, told by one scan of the usual form,
 * `["Name" ]<sip:user@host:port;name=value>;name=value`: a dialog keeps its name-addrs as formatNameAddr writes them,
 * and most values it meets are written so already (ours always are), which then need neither parse nor format.
 * Conservative: false for anything the scan does not follow (escapes, URI headers, quoted or upper-case parameters,
 * white space, repeated or numeric parameter names, which the parse would reorder or merge), true only for values
 * that read back unchanged.
 */
export function isFormattedNameAddr(text: string): boolean {
  let pos = 0;
  if (text.charCodeAt(0) === 34) {
    // formatNameAddr quotes a non-empty display name, escaping only quote and backslash.
    const close = text.indexOf('"', 1);
    const backslash = text.indexOf('\\', 1);
    if (close <= 1 || (backslash !== -1 && backslash < close) || text.charCodeAt(close + 1) !== 32) return false;
    pos = close + 2;
  }
  if (text.charCodeAt(pos) !== 60) return false;
  const end = formattedUriEnd(text, pos + 1);
  if (end === -1 || text.charCodeAt(end) !== 62) return false;
  return formattedParamsEnd(text, end + 1, TOKEN_NAME, PARAM_VALUE) === text.length;
}

/** Whether `formatUri(parseUri(text))` is `text` itself: `isFormattedNameAddr`'s test of the URI between `<` and `>`. */
export function isFormattedUri(text: string): boolean {
  return formattedUriEnd(text, 0) === text.length;
}

/** Characters a parameter name may hold to read back as written: lower-case (names are folded), no escape. */
const URI_PARAM_NAME = new Uint8Array(128);
const URI_PARAM_VALUE = new Uint8Array(128);
const TOKEN_NAME = new Uint8Array(128);
const PARAM_VALUE = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const upper = c >= 65 && c <= 90;
  URI_PARAM_VALUE[c] = PARAM_CHARS[c] as number;
  URI_PARAM_NAME[c] = upper ? 0 : (PARAM_CHARS[c] as number);
  TOKEN_NAME[c] = !upper && isTokenChar(c) ? 1 : 0;
  PARAM_VALUE[c] = isTokenChar(c) || c === 91 || c === 93 || c === 58 ? 1 : 0;
}

/** Where a sip/sips URI starting at `pos` and written as formatUri writes it ends, or -1. */
function formattedUriEnd(text: string, pos: number): number {
  if (text.startsWith('sip:', pos)) pos += 4;
  else if (text.startsWith('sips:', pos)) pos += 5;
  else return -1;
  const len = text.length;
  // userinfo: user characters up to an '@' (no password, no escape); a host has neither '@' nor those all.
  let i = pos;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c >= 128 || USER_CHARS[c] !== 1) break;
    i++;
  }
  if (text.charCodeAt(i) === 64) {
    if (i === pos) return -1;
    pos = i + 1;
  }
  if (text.charCodeAt(pos) === 91) {
    const close = text.indexOf(']', pos);
    if (close <= pos + 1) return -1;
    for (let k = pos + 1; k < close; k++) {
      const c = text.charCodeAt(k);
      if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46)) return -1;
    }
    pos = close + 1;
  } else {
    const hostStart = pos;
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if (c >= 128 || HOST_CHARS[c] !== 1) break;
      pos++;
    }
    if (pos === hostStart) return -1;
  }
  if (text.charCodeAt(pos) === 58) {
    // A port reads back as written without a leading zero.
    const portStart = ++pos;
    let port = 0;
    while (pos < len && text.charCodeAt(pos) >= 48 && text.charCodeAt(pos) <= 57) port = port * 10 + text.charCodeAt(pos++) - 48;
    const digits = pos - portStart;
    if (digits === 0 || digits > 5 || port > 65535 || (digits > 1 && text.charCodeAt(portStart) === 48)) return -1;
  }
  return formattedParamsEnd(text, pos, URI_PARAM_NAME, URI_PARAM_VALUE);
}

/**
 * Where a run of `;name` / `;name=value` from `pos` ends, when every name reads back as written and in its place
 * (not numeric: an object puts integer keys first; not repeated: the parse keeps one), or -1.
 */
function formattedParamsEnd(text: string, pos: number, names: Uint8Array, values: Uint8Array): number {
  const len = text.length;
  const first = pos;
  while (pos < len && text.charCodeAt(pos) === 59) {
    const nameStart = ++pos;
    let numeric = true;
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if (c >= 128 || names[c] !== 1) break;
      if (c < 48 || c > 57) numeric = false;
      pos++;
    }
    if (pos === nameStart || numeric) return -1;
    // Only a later parameter can repeat an earlier one; only a nine-character name can be "__proto__".
    if (nameStart - 1 > first || pos - nameStart === 9) {
      const name = text.slice(nameStart, pos);
      if (name === '__proto__' || repeats(text, first, nameStart, name)) return -1;
    }
    if (text.charCodeAt(pos) === 61) {
      const valueStart = ++pos;
      while (pos < len) {
        const c = text.charCodeAt(pos);
        if (c >= 128 || values[c] !== 1) break;
        pos++;
      }
      // A generic parameter's empty value is a syntax error; a URI parameter's reads back.
      if (pos === valueStart && names === TOKEN_NAME) return -1;
    }
  }
  return pos;
}

/** Whether `;name` (followed by '=' or ';' or the end) occurs in text[from, before). */
function repeats(text: string, from: number, before: number, name: string): boolean {
  let at = text.indexOf(name, from);
  while (at !== -1 && at < before - 1) {
    const next = text.charCodeAt(at + name.length);
    if (text.charCodeAt(at - 1) === 59 && (next === 61 || next === 59 || at + name.length === before - 1)) return true;
    at = text.indexOf(name, at + 1);
  }
  return false;
}
