/**
 * What changed between two versions of a JSON-serialisable value, found by reference: the call machine copies
 * only the parts of a state a transition changes (origination-machine.ts's copy-on-write), so a part that is the
 * same object as before is the same JSON, and is neither walked nor serialised. Ending a bridged call changes a
 * few numbers and statuses of a 2.3 KB state: its delta is ~200 bytes, made in a fraction of the state's
 * JSON.stringify.
 *
 * A delta is JSON text: an array of operations, `[path, value]` to set, `[path]` to delete; a path is an array of
 * keys and array indexes. Applied to the JSON of `prev` it gives a value deep-equal to the JSON of `next`
 * (keys added by a delta come last in their object: key order may differ from JSON.stringify(next)).
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A delta from `prev` to `next`, both objects (not arrays) as JSON.stringify would see them. */
export function jsonDelta(prev: object, next: object): string {
  const ops: string[] = [];
  walkObject(prev as Record<string, unknown>, next as Record<string, unknown>, [], ops);
  return `[${ops.join(',')}]`;
}

/** Applies a jsonDelta to the parsed JSON of its `prev`, in place. */
export function applyJsonDelta(target: { [key: string]: Json }, delta: string): void {
  for (const op of JSON.parse(delta) as [(string | number)[], Json?][]) {
    const path = op[0];
    let parent = target as Record<string | number, Json>;
    for (let i = 0; i < path.length - 1; i++) parent = parent[path[i]!] as Record<string | number, Json>;
    const key = path[path.length - 1]!;
    if (op.length === 1) delete parent[key];
    else parent[key] = op[1]!;
  }
}

/** An object or array whose JSON is that of its own properties (not a Date or anything else with toJSON). */
function isWalkable(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

// The walk is the hot part: keys are read with for...in (no key array per object; states are plain objects with
// no inherited enumerable keys), and the path is one array of keys already in JSON, pushed and popped only along
// what changed.
function walkObject(prev: Record<string, unknown>, next: Record<string, unknown>, path: string[], ops: string[]): void {
  for (const key in next) {
    const a = prev[key];
    const b = next[key];
    if (a === b || b === undefined) continue;
    path.push(JSON.stringify(key));
    diff(a, b, path, ops);
    path.pop();
  }
  for (const key in prev) {
    // JSON.stringify leaves out keys whose value is undefined: such a key is as good as absent.
    if (next[key] === undefined && prev[key] !== undefined) ops.push(`[[${path.join(',')}${path.length === 0 ? '' : ','}${JSON.stringify(key)}]]`);
  }
}

function walkArray(prev: unknown[], next: unknown[], path: string[], ops: string[]): void {
  for (let i = 0; i < next.length; i++) {
    // JSON.stringify writes an undefined element as null.
    const a = prev[i] ?? null;
    const b = next[i] ?? null;
    if (a === b) continue;
    path.push(`${i}`);
    diff(a, b, path, ops);
    path.pop();
  }
}

function diff(a: unknown, b: unknown, path: string[], ops: string[]): void {
  if (isWalkable(a) && isWalkable(b)) {
    const arrays = Array.isArray(a);
    if (arrays === Array.isArray(b)) {
      if (!arrays) return walkObject(a, b, path, ops);
      if ((a as unknown as unknown[]).length === (b as unknown as unknown[]).length) return walkArray(a as unknown as unknown[], b as unknown as unknown[], path, ops);
    }
  }
  ops.push(`[[${path.join(',')}],${jsonOf(b)}]`);
}

function jsonOf(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? `${v}` : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return v === null ? 'null' : JSON.stringify(v);
  }
}
