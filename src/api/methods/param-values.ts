/** Reading single values and lists out of normalised parameters. */
import type { ParamValue, Params } from '../envelope.ts';

/** The text of a scalar parameter; undefined when absent; null when it is a list or a map. */
export function scalar(params: Params, name: string): string | undefined | null {
  if (!Object.hasOwn(params, name)) return undefined;
  const v = params[name];
  return typeof v === 'string' ? v : null;
}

/** How a bad value appears in an error message. */
export function show(params: Params, name: string): string {
  const v = params[name];
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * The items of a list parameter in every shape clients send: `{variable: [...]}` (XML <variables><variable>, or
 * JSON), a bare array, or a single string. Null when an item is not a string.
 */
export function listOf(value: ParamValue | undefined, itemName: string): string[] | null {
  if (value === undefined || value === '') return [];
  if (typeof value === 'string') return [value];
  let items: ParamValue;
  if (Array.isArray(value)) items = value;
  else {
    const map = value as { readonly [name: string]: ParamValue };
    const keys = Object.keys(map);
    if (keys.length === 0) return [];
    if (keys.length !== 1 || keys[0] !== itemName) return null;
    items = map[itemName] as ParamValue;
  }
  if (typeof items === 'string') return [items];
  if (!Array.isArray(items)) return null;
  const out: string[] = [];
  for (const i of items as readonly ParamValue[]) {
    if (typeof i !== 'string') return null;
    out.push(i);
  }
  return out;
}
