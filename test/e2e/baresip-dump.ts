/** Reading what a baresip phone heard: its sndfile module dumps the decoded stream to WAV files. */
import { readFileSync } from 'node:fs';

/** 16-bit PCM samples of a baresip dump (first channel); a dump cut short keeps a zero size in its header. */
export function dumpSamples(file: string): { rate: number; samples: Int16Array } {
  const buf = readFileSync(file);
  let offset = 12;
  let rate = 8000;
  let channels = 1;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(offset + 10);
      rate = buf.readUInt32LE(offset + 12);
    }
    if (id === 'data') {
      const end = size === 0 || offset + 8 + size > buf.length ? buf.length : offset + 8 + size;
      const all = new Int16Array(buf.buffer.slice(buf.byteOffset + offset + 8, buf.byteOffset + end - ((end - offset - 8) % 2)));
      const mono = new Int16Array(Math.floor(all.length / channels));
      for (let i = 0; i < mono.length; i++) mono[i] = all[i * channels]!;
      return { rate, samples: mono };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error(`no data chunk in ${file}`);
}
