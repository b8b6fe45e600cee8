/**
 * Header names: every lookup goes through `headerKey`, which folds case and compact forms (RFC 3261 §7.3.3,
 * RFC 3265, RFC 3515, RFC 3841, RFC 4028 ...) onto one lower-case long name.
 */

// A Map, not an object literal: a header named after an Object.prototype member ("Constructor") must fold to
// its own name.
const COMPACT = new Map<string, string>(Object.entries({
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
}));

/** Headers whose value is a comma-separated list (RFC 3261 §7.3.1): `getAll` splits them. */
const LIST_HEADERS = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'path',
  'service-route',
  'allow',
  'allow-events',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'in-reply-to',
  'alert-info',
  'call-info',
  'error-info',
  'accept-contact',
  'reject-contact',
]);

// Keys of the headers every layer reads, written as literals: V8 interns those, so comparing keys with each other
// (header lookups, serialize) is a pointer comparison instead of a character one.
const COMMON_KEYS = new Map<string, string>();
for (const key of [
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'contact',
  'max-forwards',
  'content-type',
  'content-length',
  'route',
  'record-route',
  'allow',
  'supported',
  'require',
  'user-agent',
  'server',
  'expires',
  'accept',
  'event',
  'authorization',
  'www-authenticate',
  'proxy-authorization',
  'proxy-authenticate',
  'session-expires',
  'subscription-state',
  'allow-events',
  'date',
  'subject',
  'reason',
  'p-asserted-identity',
]) {
  COMMON_KEYS.set(key, key);
}

// Names as written in messages repeat endlessly ("Via", "CSeq" ...), so memoise the folding. Bounded, because
// the names come from the network.
const cache = new Map<string, string>();
const CACHE_LIMIT = 4096;

export function headerKey(name: string): string {
  let key = cache.get(name);
  if (key !== undefined) return key;
  const lower = name.toLowerCase();
  key = COMPACT.get(lower) ?? COMMON_KEYS.get(lower) ?? lower;
  if (cache.size < CACHE_LIMIT) cache.set(name, key);
  return key;
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}
