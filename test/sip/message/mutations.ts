/** Deterministic mutation of test inputs for the parser fuzz tests: a failure can be replayed from its seed. */

/** A linear congruential generator: the same seed gives the same sequence in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One to three edits of `seed`: a character replaced by one of `interesting`, a run deleted, or one inserted. */
export function mutateText(seed: string, rand: () => number, interesting: string): string {
  let out = seed;
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (out.length + 1));
    const c = interesting[Math.floor(rand() * interesting.length)] as string;
    const kind = rand();
    if (kind < 0.4) out = out.slice(0, at) + c + out.slice(at + 1);
    else if (kind < 0.7) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rand() * 6));
    else out = out.slice(0, at) + c + out.slice(at);
  }
  return out;
}
