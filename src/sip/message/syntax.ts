/**
 * Lexical building blocks of RFC 3261 §25.1 shared by the URI, name-addr and Via parsers: token characters,
 * linear white space, quoted strings, generic parameters and comma-separated lists.
 */

const TOKEN_CHARS = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') {
  TOKEN_CHARS[ch.charCodeAt(0)] = 1;
}

export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHARS[code] === 1;
}

// The byte tables are read here as module-local constants, which V8 folds into the code; an exported binding is
// read through its module cell, checked for initialization on every read. Modules that import them keep a local
// constant of their own for the same reason.
const TOKEN = new Uint8Array(256);
TOKEN.set(TOKEN_CHARS);
const PARAM_VALUE = new Uint8Array(256);
PARAM_VALUE.set(TOKEN_CHARS);
for (const ch of '[]:') PARAM_VALUE[ch.charCodeAt(0)] = 1;

/** Token characters by byte (all 256 entries, so a byte needs no range check). */
export const TOKEN_BYTES = TOKEN;

/** Characters of a generic parameter's value by byte: token / host (IPv6 references bring `[`, `]` and `:`). */
export const PARAM_VALUE_BYTES = PARAM_VALUE;

export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    if (!isTokenChar(text.charCodeAt(i))) return false;
  }
  return true;
}

/** SP, HTAB, CR or LF: folded lines have been unfolded before values reach these parsers, but be lenient. */
export function isWs(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}

export function skipWs(text: string, pos: number): number {
  while (pos < text.length && isWs(text.charCodeAt(pos))) pos++;
  return pos;
}

/**
 * Reads a quoted-string starting at `pos` (which must be the opening quote). Returns the unescaped content and
 * the position after the closing quote, or null when the quote is never closed.
 */
export function readQuoted(text: string, pos: number): { value: string; end: number } | null {
  let out = '';
  let runStart = pos + 1;
  for (let i = pos + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (i + 1 >= text.length) return null;
      out += text.slice(runStart, i);
      runStart = i + 1;
      i++;
    } else if (c === 34 /* " */) {
      out += text.slice(runStart, i);
      return { value: out, end: i + 1 };
    }
  }
  return null;
}

export function quote(value: string): string {
  // Display names rarely hold a quote or a backslash: a scan for them costs less than the regular expression.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34 || c === 92) return `"${value.replace(/["\\]/g, '\\$&')}"`;
  }
  return `"${value}"`;
}

// Parameter names that occur on nearly every message. Returning these constants instead of fresh slices saves
// an allocation and, more importantly, the string-table lookup V8 does for every new property key.
const COMMON_PARAMS = ['tag', 'branch', 'rport', 'received', 'lr', 'transport', 'user', 'maddr', 'ttl', 'expires', 'q', 'ob', 'method'];
const PARAMS_BY_LENGTH: string[][] = [];
for (const name of COMMON_PARAMS) (PARAMS_BY_LENGTH[name.length] ??= []).push(name);

/** The lower-cased parameter name in text[start, end) (token characters, already checked). */
export function paramName(text: string, start: number, end: number): string {
  const candidates = PARAMS_BY_LENGTH[end - start];
  if (candidates !== undefined) {
    for (let n = 0; n < candidates.length; n++) {
      const name = candidates[n] as string;
      let j = 0;
      for (; j < name.length; j++) {
        const c = text.charCodeAt(start + j);
        if (c !== name.charCodeAt(j) && c + 32 !== name.charCodeAt(j)) break;
      }
      if (j === name.length) return name;
    }
  }
  return text.slice(start, end).toLowerCase();
}

/** The common names again, with their character codes, for `paramNameIn`. */
const PARAM_CODES_BY_LENGTH: Array<Array<{ name: string; codes: Uint8Array }>> = [];
for (const name of COMMON_PARAMS) (PARAM_CODES_BY_LENGTH[name.length] ??= []).push({ name, codes: Buffer.from(name, 'latin1') });

/** `paramName` reading the name from `bytes` (the same characters as `text`, one byte each). */
export function paramNameIn(bytes: Uint8Array, text: string, start: number, end: number): string {
  const len = end - start;
  // The Via parameters of nearly every message, in the lower case nearly every client writes, compared with
  // constant bytes: a table's bytes and the case folding cost several times as much (parseParamsIn on a Via's
  // ";branch=...;rport", 105 -> 92 ns).
  const b = bytes;
  const p = start;
  if (len === 6) {
    if (b[p] === 98 && b[p + 1] === 114 && b[p + 2] === 97 && b[p + 3] === 110 && b[p + 4] === 99 && b[p + 5] === 104) {
      return 'branch';
    }
  } else if (len === 5) {
    if (b[p] === 114 && b[p + 1] === 112 && b[p + 2] === 111 && b[p + 3] === 114 && b[p + 4] === 116) return 'rport';
  } else if (len === 8) {
    if (
      b[p] === 114 && b[p + 1] === 101 && b[p + 2] === 99 && b[p + 3] === 101 && b[p + 4] === 105 &&
      b[p + 5] === 118 && b[p + 6] === 101 && b[p + 7] === 100
    ) {
      return 'received';
    }
  }
  const candidates = PARAM_CODES_BY_LENGTH[len];
  if (candidates !== undefined) {
    for (let n = 0; n < candidates.length; n++) {
      const known = candidates[n] as { name: string; codes: Uint8Array };
      const codes = known.codes;
      let j = 0;
      for (; j < codes.length; j++) {
        const c = bytes[start + j] as number;
        const want = codes[j] as number;
        if (c !== want && c + 32 !== want) break;
      }
      if (j === codes.length) return known.name;
    }
  }
  return text.slice(start, end).toLowerCase();
}

export type Params = Record<string, string | null>;

/**
 * Parses `*( SEMI generic-param )` from `pos` to the end of `text`. Values may be tokens, hosts or quoted
 * strings (kept with their quotes so they format back unchanged). Returns null on a syntax error.
 */
export function parseParams(text: string, pos: number): Params | null {
  const params: Params = {};
  const len = text.length;
  pos = skipWs(text, pos);
  while (pos < len) {
    if (text.charCodeAt(pos) !== 59 /* ; */) return null;
    pos = skipWs(text, pos + 1);
    const nameStart = pos;
    while (pos < len && isTokenChar(text.charCodeAt(pos))) pos++;
    if (pos === nameStart) return null;
    const name = paramName(text, nameStart, pos);
    pos = skipWs(text, pos);
    if (pos < len && text.charCodeAt(pos) === 61 /* = */) {
      pos = skipWs(text, pos + 1);
      if (pos < len && text.charCodeAt(pos) === 34) {
        const q = readQuoted(text, pos);
        if (q === null) return null;
        params[name] = text.slice(pos, q.end);
        pos = q.end;
      } else {
        const valueStart = pos;
        while (pos < len && isParamValueChar(text.charCodeAt(pos))) pos++;
        if (pos === valueStart) return null;
        params[name] = text.slice(valueStart, pos);
      }
    } else {
      params[name] = null;
    }
    pos = skipWs(text, pos);
  }
  return params;
}

/** token / host (IPv6 references bring `[`, `]` and `:`). */
function isParamValueChar(code: number): boolean {
  return isTokenChar(code) || code === 91 || code === 93 || code === 58;
}

export function formatParams(params: Params): string {
  let out = '';
  for (const name in params) {
    const value = params[name];
    out += value === null || value === undefined ? `;${name}` : `;${name}=${value}`;
  }
  return out;
}

/**
 * Splits a header value on the commas that separate list elements, ignoring commas inside quoted strings and
 * `<...>` (a URI may contain commas). Elements are trimmed; empty elements are kept so callers can reject them.
 */
export function splitList(value: string): string[] {
  if (value.indexOf(',') === -1) return [value];
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 92) i++;
      else if (c === 34) inQuote = false;
    } else if (c === 34) {
      inQuote = true;
    } else if (c === 60) {
      inAngle = true;
    } else if (c === 62) {
      inAngle = false;
    } else if (c === 44 && !inAngle) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out;
}

/** Trims SP and HTAB only: String#trim would also eat characters such as U+FEFF that belong to the value. */
export function trimLws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/**
 * `parseParams` over `text[pos, end)`, reading characters from `bytes`, which holds the same characters one byte
 * each (an ASCII head and its latin1 decoding). Typed-array reads cost a fraction of `charCodeAt` on a string
 * cut from a larger one, and this runs for the top Via of every message. Same grammar and results as
 * `parseParams(text.slice(0, end), pos)`.
 */
export function parseParamsIn(bytes: Uint8Array, text: string, pos: number, end: number): Params | null {
  const params: Params = {};
  let quoted = false;
  paramsScan.rportEnd = -1;
  pos = skipWsIn(bytes, pos, end);
  while (pos < end) {
    if (bytes[pos] !== 59 /* ; */) return null;
    if (paramsScan.rportEnd === -1 && bytes[pos + 1] === 114 && isRport(bytes, pos + 1)) paramsScan.rportEnd = quoted ? -2 : pos + 6;
    pos = skipWsIn(bytes, pos + 1, end);
    const nameStart = pos;
    while (pos < end && TOKEN[bytes[pos] as number] === 1) pos++;
    if (pos === nameStart) return null;
    const name = paramNameIn(bytes, text, nameStart, pos);
    pos = skipWsIn(bytes, pos, end);
    if (pos < end && bytes[pos] === 61 /* = */) {
      pos = skipWsIn(bytes, pos + 1, end);
      if (pos < end && bytes[pos] === 34) {
        const q = readQuoted(text.slice(0, end), pos);
        if (q === null) return null;
        setParam(params, name, text.slice(pos, q.end));
        pos = q.end;
        quoted = true;
      } else {
        const valueStart = pos;
        while (pos < end && PARAM_VALUE[bytes[pos] as number] === 1) pos++;
        if (pos === valueStart) return null;
        setParam(params, name, text.slice(valueStart, pos));
      }
    } else {
      setParam(params, name, null);
    }
    pos = skipWsIn(bytes, pos, end);
  }
  if (paramsScan.rportEnd === -1 && quoted) paramsScan.rportEnd = -2;
  return params;
}

/**
 * `params[name] = value`, with a named store for the parameters of nearly every Via: a keyed store whose name
 * varies is a generic (megamorphic) store, which costs several named ones.
 */
export function setParam(params: Params, name: string, value: string | null): void {
  switch (name) {
    case 'branch':
      params.branch = value;
      break;
    case 'rport':
      params.rport = value;
      break;
    case 'received':
      params.received = value;
      break;
    default:
      params[name] = value;
  }
}

/**
 * Set by `parseParamsIn`: where the first ";rport" of the text ends (what `setTopViaParams` fills in), -1 when
 * there is none, -2 when a quoted value before it may hold one.
 */
export const paramsScan = { rportEnd: -1 };

/** "rport" at bytes[at]. */
function isRport(bytes: Uint8Array, at: number): boolean {
  return bytes[at + 1] === 112 && bytes[at + 2] === 111 && bytes[at + 3] === 114 && bytes[at + 4] === 116;
}

export function skipWsIn(bytes: Uint8Array, pos: number, end: number): number {
  while (pos < end && isWs(bytes[pos] as number)) pos++;
  return pos;
}
