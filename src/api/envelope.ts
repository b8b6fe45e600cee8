/**
 * Request envelopes of the Switchvox Extend API, XML and JSON, normalised to one shape: the method name and its
 * parameters as strings, lists and maps. Numbers stay strings (dialed numbers keep leading zeros). The XML parser
 * never expands entities and any DOCTYPE is refused before parsing, so entity tricks cannot reach it.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ApiErrors, type ApiError } from './api-error.ts';

export type ParamValue = string | readonly ParamValue[] | { readonly [name: string]: ParamValue };
export type Params = Readonly<Record<string, ParamValue>>;
export type Format = 'xml' | 'json';

export interface ApiRequest {
  readonly method: string;
  readonly params: Params;
}

export type EnvelopeResult =
  | { readonly ok: true; readonly request: ApiRequest }
  | { readonly ok: false; readonly method: string; readonly error: ApiError };

/** Deeper than any real request; bounds recursion on hostile input. */
const MAX_DEPTH = 16;

// preserveOrder skips the parser's own object-building pass (a quarter of its time); fromXml builds ours.
const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_DEPTH + 2,
});

const utf8 = new TextDecoder('utf-8', { fatal: true });
const DOCTYPE = /<!\s*(?:DOCTYPE|ENTITY)/i;
const ENTITY_REF = /&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/g;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

class DepthError extends Error {
  override readonly name = 'DepthError';
}

/** The five predefined entities and character references only: nothing can expand. */
function decodeXmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY_REF, (whole, named: string | undefined, dec: string | undefined, hex: string | undefined) => {
    if (named !== undefined) return PREDEFINED[named] ?? whole;
    const cp = dec !== undefined ? Number(dec) : parseInt(hex as string, 16);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
  });
}

/**
 * Adds a child element's value; a name seen before turns into the list of its values. Own properties only, and no
 * `__proto__`: element names come from the client.
 */
function addChild(out: Record<string, ParamValue>, name: string, value: ParamValue): Record<string, ParamValue> {
  if (name === '__proto__') return out;
  if (!Object.hasOwn(out, name)) out[name] = value;
  else {
    const prev = out[name] as ParamValue;
    if (Array.isArray(prev)) (prev as ParamValue[]).push(value);
    else out[name] = [prev, value];
  }
  return out;
}

/** preserveOrder output: `{name: children, ':@'?: attributes}` for an element, `{'#text': text}` for text. */
type OrderedNode = Readonly<Record<string, unknown>>;

function nameOf(node: OrderedNode): string | undefined {
  for (const k in node) if (k !== ':@') return k;
  return undefined;
}

/**
 * An element's content: its text when it has no child elements (attributes are ignored), else a map of child
 * name -> value, a name used several times holding the list of values (the only arrays built here).
 */
function fromXml(children: readonly OrderedNode[], depth: number): ParamValue {
  if (depth > MAX_DEPTH) throw new DepthError();
  let text = '';
  let out: Record<string, ParamValue> | undefined;
  for (const child of children) {
    const name = nameOf(child);
    if (name === undefined) continue;
    if (name === '#text') {
      text += String(child[name]);
      continue;
    }
    out = addChild(out ?? {}, name, fromXml(child[name] as OrderedNode[], depth + 1));
  }
  return out ?? decodeXmlText(text);
}

/** JSON null counts as absent; numbers and booleans become their text. */
function fromJson(value: unknown, depth: number): ParamValue | undefined {
  if (depth > MAX_DEPTH) throw new DepthError();
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const out: ParamValue[] = [];
    for (const v of value) {
      const n = fromJson(v, depth + 1);
      if (n !== undefined) out.push(n);
    }
    return out;
  }
  const out: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(value as object)) {
    const n = fromJson(v, depth + 1);
    if (n !== undefined && k !== '__proto__') out[k] = n;
  }
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function paramsOf(value: ParamValue | undefined): Params | null {
  if (value === undefined || value === '') return {};
  return isMap(value) ? (value as Params) : null;
}

/** Not handled by the fast path: the general parser decides (and reports errors with positions). */
const GENERAL = null;

const isNameStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46;
const isXmlSpace = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 13;
// Names fast-xml-parser refuses or renames (prototype-pollution guard): left to it, so both paths agree.
const GUARDED_NAMES = new Set([
  '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf',
  '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__',
]);
const REFERENCE = /^&(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;
const XML_DECLARATION =
  /<\?xml[ \t\r\n]+version="1\.0"(?:[ \t\r\n]+encoding="[A-Za-z][A-Za-z0-9._-]*")?(?:[ \t\r\n]+standalone="(?:yes|no)")?[ \t\r\n]*\?>/y;

/**
 * The fast path for the XML every client actually sends: an optional declaration, elements, attributes, text with
 * the predefined entities or character references. It yields exactly what the general path would (a test
 * compares them on a corpus) and hands anything else (comments, CDATA, processing instructions, namespaces,
 * unusual attributes, any error) to fast-xml-parser, which costs several times more per request.
 */
class SimpleXmlReader {
  private i = 0;
  rootMethod: string | undefined;
  /** The name of the element element() read last: a field, so that no pair is built per element. */
  private elementName = '';

  constructor(private readonly s: string) {}

  read(): { readonly method: string | undefined; readonly content: ParamValue } | null {
    const s = this.s;
    // XML line-end normalisation (CR, CRLF -> LF) is the general parser's business.
    if (s.includes('\r')) return GENERAL;
    // A declaration is allowed only as the very first characters.
    if (s.startsWith('<?xml')) {
      XML_DECLARATION.lastIndex = 0;
      if (!XML_DECLARATION.test(s)) return GENERAL;
      this.i = XML_DECLARATION.lastIndex;
    }
    this.skipSpace();
    if (s.charCodeAt(this.i) !== 60) return GENERAL;
    const root = this.element(0);
    if (root === GENERAL || this.elementName !== 'request') return GENERAL;
    this.skipSpace();
    if (this.i !== s.length) return GENERAL;
    return { method: this.rootMethod, content: root };
  }

  private skipSpace(): void {
    while (this.i < this.s.length && isXmlSpace(this.s.charCodeAt(this.i))) this.i++;
  }

  private name(): string {
    const start = this.i;
    if (!isNameStart(this.s.charCodeAt(this.i))) return '';
    this.i++;
    while (this.i < this.s.length && isNameChar(this.s.charCodeAt(this.i))) this.i++;
    const name = this.s.slice(start, this.i);
    return GUARDED_NAMES.has(name) ? '' : name;
  }

  /** Whether the text up to `end` holds only '&'s that start a reference we decode. */
  private referencesOk(end: number): boolean {
    const s = this.s;
    for (let amp = s.indexOf('&', this.i); amp >= 0 && amp < end; amp = s.indexOf('&', amp + 1)) {
      if (!REFERENCE.test(s.slice(amp, Math.min(amp + 12, end)))) return false;
    }
    return true;
  }

  /** The cursor is on '<' of a start tag. Its value is returned, its name left in elementName. */
  private element(depth: number): ParamValue | null {
    const s = this.s;
    if (depth > MAX_DEPTH + 1) return GENERAL;
    this.i++;
    const name = this.name();
    if (name === '') return GENERAL;
    let seen: string[] | undefined;
    for (;;) {
      const before = this.i;
      this.skipSpace();
      const c = s.charCodeAt(this.i);
      if (c === 62) {
        this.i++;
        break;
      }
      if (c === 47) {
        if (s.charCodeAt(this.i + 1) !== 62) return GENERAL;
        this.i += 2;
        this.elementName = name;
        return '';
      }
      if (this.i === before) return GENERAL;
      const attr = this.name();
      if (attr === '' || seen?.includes(attr) === true || s.charCodeAt(this.i) !== 61) return GENERAL;
      (seen ??= []).push(attr);
      const quote = s.charCodeAt(this.i + 1);
      if (quote !== 34 && quote !== 39) return GENERAL;
      const close = s.indexOf(quote === 34 ? '"' : "'", this.i + 2);
      if (close < 0) return GENERAL;
      const value = s.slice(this.i + 2, close);
      if (value.includes('<') || value.includes('&') || value.trim() !== value) return GENERAL;
      if (depth === 0 && attr === 'method') this.rootMethod = value;
      this.i = close + 1;
    }
    let text = '';
    let out: Record<string, ParamValue> | undefined;
    for (;;) {
      const lt = s.indexOf('<', this.i);
      if (lt < 0 || !this.referencesOk(lt)) return GENERAL;
      // Text beside child elements is dropped: only an element without children keeps its text.
      if (out === undefined && lt > this.i) text += s.slice(this.i, lt);
      this.i = lt;
      const next = s.charCodeAt(lt + 1);
      if (next === 47) {
        // The end tag must spell the start tag's name and no longer name.
        if (!s.startsWith(name, lt + 2) || isNameChar(s.charCodeAt(lt + 2 + name.length))) return GENERAL;
        this.i = lt + 2 + name.length;
        this.skipSpace();
        if (s.charCodeAt(this.i) !== 62) return GENERAL;
        this.i++;
        this.elementName = name;
        return out ?? decodeXmlText(text.trim());
      }
      if (!isNameStart(next)) return GENERAL;
      const child = this.element(depth + 1);
      if (child === GENERAL) return GENERAL;
      out = addChild(out ?? {}, this.elementName, child);
    }
  }
}

/** The envelope from the root element's method attribute and content, whichever path read them. */
function fromRoot(method: unknown, content: ParamValue): EnvelopeResult {
  if (typeof method !== 'string' || method === '') return { ok: false, method: '', error: ApiErrors.missingMethod() };
  if (typeof content === 'string') {
    if (content !== '') return { ok: false, method, error: ApiErrors.malformed('<request> must hold <parameters>') };
    return { ok: true, request: { method, params: {} } };
  }
  const params = paramsOf((content as Record<string, ParamValue>).parameters);
  if (params === null) return { ok: false, method, error: ApiErrors.malformed('<parameters> must hold elements') };
  return { ok: true, request: { method, params } };
}

/** fast-xml-parser: validation, then the ordered parse. Exported for the test comparing it with the fast path. */
export function parseXmlGeneral(text: string): EnvelopeResult {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    return { ok: false, method: '', error: ApiErrors.malformed(`XML ${valid.err.msg} (line ${valid.err.line})`) };
  }
  let doc: OrderedNode[];
  try {
    doc = xmlParser.parse(text) as OrderedNode[];
  } catch (err) {
    // The parser's own limits (nesting) throw plain Errors; the client gets them as a malformed request.
    return { ok: false, method: '', error: ApiErrors.malformed(`XML ${(err as Error).message}`) };
  }
  const root = doc.find((n) => nameOf(n) === 'request');
  if (root === undefined) return { ok: false, method: '', error: ApiErrors.malformed('the root element must be <request>') };
  const method = (root[':@'] as Record<string, unknown> | undefined)?.['@_method'];
  return fromRoot(method, fromXml(root.request as OrderedNode[], 0));
}

/** The fast path alone (null: it hands the document to the general parser). Exported for tests. */
export function readSimpleXml(text: string): { readonly method: string | undefined; readonly content: ParamValue } | null {
  return new SimpleXmlReader(text).read();
}

function parseXml(text: string): EnvelopeResult {
  if (DOCTYPE.test(text)) return { ok: false, method: '', error: ApiErrors.doctype() };
  const simple = readSimpleXml(text);
  return simple === null ? parseXmlGeneral(text) : fromRoot(simple.method, simple.content);
}

function parseJson(text: string): EnvelopeResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, method: '', error: ApiErrors.malformed(`JSON ${(err as SyntaxError).message}`) };
  }
  const root = isMap(doc) ? doc.request : undefined;
  if (!isMap(root)) return { ok: false, method: '', error: ApiErrors.malformed('the body must be {"request": {...}}') };
  const method = root.method;
  if (typeof method !== 'string' || method === '') return { ok: false, method: '', error: ApiErrors.missingMethod() };
  const params = paramsOf(fromJson(root.parameters, 0));
  if (params === null) return { ok: false, method, error: ApiErrors.malformed('"parameters" must be an object') };
  return { ok: true, request: { method, params } };
}

export function parseEnvelope(body: Buffer | string, format: Format): EnvelopeResult {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = utf8.decode(body);
    } catch {
      return { ok: false, method: '', error: ApiErrors.malformed('the body is not UTF-8 text') };
    }
  }
  if (text.includes('\u0000')) return { ok: false, method: '', error: ApiErrors.malformed('the body contains NUL bytes') };
  try {
    return format === 'xml' ? parseXml(text) : parseJson(text);
  } catch (err) {
    if (err instanceof DepthError) return { ok: false, method: '', error: ApiErrors.malformed('nested too deeply') };
    throw err;
  }
}
