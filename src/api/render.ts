/**
 * Responses of the Switchvox Extend API. A result is a small tree: data in attributes, children by element name.
 * XML writes it as is; JSON mirrors it the way Switchvox does: attributes become keys, a child name used once is
 * an object and used several times an array, an element without content is {}.
 */
import type { ApiError } from './api-error.ts';
import type { Format } from './envelope.ts';

export interface XNode {
  readonly name: string;
  /** Strings stay strings in JSON (numbers dialed keep their zeros); numbers become JSON numbers. */
  readonly attrs?: Readonly<Record<string, string | number>>;
  readonly children?: readonly XNode[];
}

export type MethodOutcome =
  | { readonly result: readonly XNode[] }
  | { readonly errors: readonly ApiError[] };

const XML_SPECIAL = /[&<>"]/;
const XML_ESCAPE = /[&<>"]/g;
const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeXml(s: string): string {
  return XML_SPECIAL.test(s) ? s.replace(XML_ESCAPE, (c) => XML_ESCAPES[c] ?? c) : s;
}

function xmlNode(n: XNode): string {
  let out = `<${n.name}`;
  if (n.attrs !== undefined) {
    for (const k in n.attrs) out += ` ${k}="${escapeXml(String(n.attrs[k]))}"`;
  }
  if (n.children === undefined || n.children.length === 0) return n.children === undefined ? `${out} />` : `${out}></${n.name}>`;
  out += '>';
  for (const c of n.children) out += xmlNode(c);
  return `${out}</${n.name}>`;
}

function jsonChildren(children: readonly XNode[] | undefined, into: Record<string, unknown>): void {
  if (children === undefined) return;
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const c of children) {
    const group = groups.get(c.name);
    if (group === undefined) groups.set(c.name, [jsonNode(c)]);
    else group.push(jsonNode(c));
  }
  for (const [name, group] of groups) into[name] = group.length === 1 ? group[0] : group;
}

function jsonNode(n: XNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (n.attrs !== undefined) Object.assign(out, n.attrs);
  jsonChildren(n.children, out);
  return out;
}

export function renderResponse(format: Format, method: string, outcome: MethodOutcome): string {
  if (format === 'xml') {
    const m = escapeXml(method);
    if ('errors' in outcome) {
      let errs = '';
      for (const e of outcome.errors) errs += `<error code="${e.code}" message="${escapeXml(e.message)}" />`;
      return `<response method="${m}"><errors>${errs}</errors></response>\n`;
    }
    let body = '';
    for (const n of outcome.result) body += xmlNode(n);
    return `<response method="${m}"><result>${body}</result></response>\n`;
  }
  if ('errors' in outcome) {
    const list = outcome.errors.map((e) => ({ code: e.code, message: e.message }));
    return JSON.stringify({ response: { method, errors: { error: list.length === 1 ? list[0] : list } } });
  }
  const result: Record<string, unknown> = {};
  jsonChildren(outcome.result, result);
  return JSON.stringify({ response: { method, result } });
}
