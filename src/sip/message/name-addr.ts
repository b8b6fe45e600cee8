/**
 * name-addr / addr-spec values of From, To, Contact, Route, Record-Route, Reply-To (RFC 3261 §20.10, §25.1).
 */
import type { NameAddr } from './types.ts';
import { formatParams, isTokenChar, isWs, parseParams, quote, readQuoted, skipWs } from './syntax.ts';
import { formatUri, parseUri } from './uri.ts';

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
  let out = '';
  if (na.displayName !== undefined && na.displayName !== '') out = quote(na.displayName) + ' ';
  return `${out}<${formatUri(na.uri)}>${formatParams(na.params)}`;
}
