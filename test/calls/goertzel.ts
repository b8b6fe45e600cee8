/** Goertzel power of one frequency in a block of 16-bit samples, normalised by block length. */
export function goertzelPower(samples: Int16Array, frequency: number, sampleRate = 8000): number {
  const k = (2 * Math.cos((2 * Math.PI * frequency) / sampleRate));
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (samples.length * samples.length);
}
