/**
 * A non-allocating check of From / To values for the parser, over the received bytes of an ASCII head (typed-array
 * reads cost half of `charCodeAt`): every message has both, and building their NameAddr (URI, parameter records)
 * costs more than the rest of the parse. Only the common shape is recognised
 * (`["display" | display] <sip:user@host:port;uri-params>;params`, no escapes, no quoted parameter values);
 * anything it is unsure of is left to `parseNameAddr`, which stays the one definition of what is valid. What it
 * accepts, `parseNameAddr` accepts, with the same tag.
 */
import { PARAM_VALUE_BYTES, TOKEN_BYTES } from './syntax.ts';
import { HOST_CHARS, PARAM_CHARS, PASSWORD_CHARS, USER_CHARS } from './uri.ts';

/** `scanNameAddr` results. */
export const enum NameAddrScan {
  /** Not in the recognised shape: ask `parseNameAddr`. */
  Unsure,
  Valid,
}

/** Where `scanNameAddr` found the value of the last `tag` parameter; -1 when there is none (or it has no value). */
export const scannedTag = { start: -1, end: -1 };

/** The URI character tables by byte (all 256 entries, so a byte needs no range check). */
function byBytes(table: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(256);
  bytes.set(table);
  return bytes;
}
// The imported tables as constants of this module (see syntax.ts: module-local constants are folded into the code).
const TOKEN = TOKEN_BYTES;
const PARAM_VALUE = PARAM_VALUE_BYTES;
const USER = byBytes(USER_CHARS);
const PASSWORD = byBytes(PASSWORD_CHARS);
const HOST = byBytes(HOST_CHARS);
const PARAM = byBytes(PARAM_CHARS);

/** Checks the name-addr in bytes[start, end) (trimmed, one line); on Valid, `scannedTag` holds the tag's span. */
export function scanNameAddr(bytes: Uint8Array, start: number, end: number): NameAddrScan {
  let pos = start;
  let c = bytes[pos] as number;
  if (c === 34) {
    // A quoted display name without escapes, then optional white space and the '<'.
    pos++;
    while (pos < end && (c = bytes[pos] as number) !== 34 && c !== 92) pos++;
    if (pos >= end || c !== 34) return NameAddrScan.Unsure;
    pos++;
    while (pos < end && ((c = (bytes[pos] as number)) === 32 || c === 9)) pos++;
  } else {
    // Tokens separated by white space, up to the '<'.
    while (pos < end && (TOKEN[(c = bytes[pos] as number)] === 1 || c === 32 || c === 9)) pos++;
  }
  if (pos + 5 > end || (bytes[pos] as number) !== 60) return NameAddrScan.Unsure;
  pos++;
  // sip: or sips:, as parseUri recognises them (lower case).
  if (bytes[pos] !== 115 || bytes[pos + 1] !== 105 || bytes[pos + 2] !== 112) return NameAddrScan.Unsure;
  pos += 3;
  if (bytes[pos] === 115) pos++;
  if (bytes[pos] !== 58) return NameAddrScan.Unsure;
  pos++;
  // userinfo: user and password characters up to an '@'. Without one, the same characters are the host part.
  const uriStart = pos;
  let pw = -1;
  for (; pos < end; pos++) {
    c = (bytes[pos] as number);
    if (c === 64) break;
    if (c === 58 && pw === -1) pw = pos;
    else if ((pw === -1 ? USER : PASSWORD)[c] !== 1) break;
  }
  if (pos < end && c === 64) {
    if ((pw === -1 ? pos : pw) === uriStart) return NameAddrScan.Unsure;
    pos++;
  } else {
    // No '@' before here; one further on would be refused by every part below.
    pos = uriStart;
  }
  // host (IPv6 references are left to parseUri)
  const hostStart = pos;
  while (pos < end && HOST[bytes[pos] as number] === 1) pos++;
  if (pos === hostStart) return NameAddrScan.Unsure;
  if (pos < end && (bytes[pos] as number) === 58) {
    const portStart = ++pos;
    let port = 0;
    while (pos < end && (c = (bytes[pos] as number)) >= 48 && c <= 57) {
      port = port * 10 + c - 48;
      pos++;
    }
    if (pos === portStart || pos - portStart > 5 || port > 65535) return NameAddrScan.Unsure;
  }
  // URI parameters, without escapes; a value may be empty.
  while (pos < end && (bytes[pos] as number) === 59) {
    const nameStart = ++pos;
    while (pos < end && PARAM[bytes[pos] as number] === 1) pos++;
    if (pos === nameStart) return NameAddrScan.Unsure;
    if (pos < end && (bytes[pos] as number) === 61) {
      pos++;
      while (pos < end && PARAM[bytes[pos] as number] === 1) pos++;
    }
  }
  if (pos >= end || (bytes[pos] as number) !== 62) return NameAddrScan.Unsure;
  pos++;
  // Header parameters: *( SEMI token [ EQUAL token / host ] ), white space around the separators.
  let tagStart = -1;
  let tagEnd = -1;
  while (pos < end && ((c = (bytes[pos] as number)) === 32 || c === 9)) pos++;
  while (pos < end) {
    if ((bytes[pos] as number) !== 59) return NameAddrScan.Unsure;
    pos++;
    while (pos < end && ((c = (bytes[pos] as number)) === 32 || c === 9)) pos++;
    const nameStart = pos;
    while (pos < end && TOKEN[bytes[pos] as number] === 1) pos++;
    if (pos === nameStart) return NameAddrScan.Unsure;
    const isTag = pos - nameStart === 3 && isTagName(bytes, nameStart);
    while (pos < end && ((c = (bytes[pos] as number)) === 32 || c === 9)) pos++;
    let valueStart = -1;
    let valueEnd = -1;
    if (pos < end && (bytes[pos] as number) === 61) {
      pos++;
      while (pos < end && ((c = (bytes[pos] as number)) === 32 || c === 9)) pos++;
      valueStart = pos;
      while (pos < end && PARAM_VALUE[bytes[pos] as number] === 1) pos++;
      if (pos === valueStart) return NameAddrScan.Unsure;
      valueEnd = pos;
    }
    if (isTag) {
      tagStart = valueStart;
      tagEnd = valueEnd;
    }
    while (pos < end && ((c = (bytes[pos] as number)) === 32 || c === 9)) pos++;
  }
  scannedTag.start = tagStart;
  scannedTag.end = tagEnd;
  return NameAddrScan.Valid;
}

/** "tag" in any letter case at bytes[at, at+3). */
function isTagName(bytes: Uint8Array, at: number): boolean {
  return ((bytes[at] as number) | 32) === 116 && ((bytes[at + 1] as number) | 32) === 97 && ((bytes[at + 2] as number) | 32) === 103;
}
