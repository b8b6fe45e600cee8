/**
 * WAV (RIFF WAVE) files of 8 kHz telephone audio: 16-bit PCM, or G.711 kept as is (format tags 6 A-law and
 * 7 mu-law, as Asterisk and SoX write them). Whole-buffer encode/decode for tests and prompts, and a streaming
 * writer whose sizes are patched on close, for recordings whose length is unknown in advance.
 */
import { open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { decodeG711 } from './g711.ts';

export type WavFormat = 'pcm16' | 'PCMU' | 'PCMA';

export interface WavAudio {
  readonly format: WavFormat;
  readonly sampleRate: number;
  readonly channels: number;
  /** The data chunk as stored: little-endian 16-bit samples, or one G.711 byte per sample. */
  readonly data: Buffer;
}

/** A file that is not a WAV we can read. */
export class WavFormatError extends Error {
  override readonly name = 'WavFormatError';
}

const FORMAT_TAGS: Readonly<Record<WavFormat, number>> = { pcm16: 1, PCMA: 6, PCMU: 7 };
const PCM_HEADER_BYTES = 44;
/** Non-PCM formats carry cbSize in fmt and a fact chunk (the sample count). */
const G711_HEADER_BYTES = 58;

function headerBytes(format: WavFormat): number {
  return format === 'pcm16' ? PCM_HEADER_BYTES : G711_HEADER_BYTES;
}

function bytesPerSample(format: WavFormat): number {
  return format === 'pcm16' ? 2 : 1;
}

function writeHeader(format: WavFormat, sampleRate: number, dataBytes: number): Buffer {
  const size = headerBytes(format);
  const header = Buffer.alloc(size);
  const width = bytesPerSample(format);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(size - 8 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  const pcm = format === 'pcm16';
  header.writeUInt32LE(pcm ? 16 : 18, 16);
  header.writeUInt16LE(FORMAT_TAGS[format], 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * width, 28);
  header.writeUInt16LE(width, 32);
  header.writeUInt16LE(width * 8, 34);
  let offset = 36;
  if (!pcm) {
    header.writeUInt16LE(0, 36);
    header.write('fact', 38, 'ascii');
    header.writeUInt32LE(4, 42);
    header.writeUInt32LE(dataBytes, 46);
    offset = 50;
  }
  header.write('data', offset, 'ascii');
  header.writeUInt32LE(dataBytes, offset + 4);
  return header;
}

export function encodeWav(audio: { format: WavFormat; sampleRate?: number; data: Uint8Array }): Buffer {
  const data = Buffer.from(audio.data.buffer, audio.data.byteOffset, audio.data.byteLength);
  return Buffer.concat([writeHeader(audio.format, audio.sampleRate ?? 8000, data.length), data]);
}

/** 16-bit samples as the little-endian bytes WAV stores. */
export function pcm16ToBytes(samples: Int16Array): Buffer {
  const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  return endianness() === 'LE' ? bytes : Buffer.from(bytes).swap16();
}

export function decodeWav(file: Buffer): WavAudio {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF WAVE file');
  }
  let format: WavFormat | undefined;
  let sampleRate = 0;
  let channels = 0;
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > file.length) throw new WavFormatError('short fmt chunk');
      const tag = file.readUInt16LE(body);
      const bits = file.readUInt16LE(body + 14);
      channels = file.readUInt16LE(body + 2);
      sampleRate = file.readUInt32LE(body + 4);
      format = (Object.keys(FORMAT_TAGS) as WavFormat[]).find((f) => FORMAT_TAGS[f] === tag);
      if (format === undefined || bits !== bytesPerSample(format) * 8) {
        throw new WavFormatError(`unsupported format tag ${tag} with ${bits} bits`);
      }
    } else if (id === 'data') {
      if (format === undefined) throw new WavFormatError('data chunk before fmt chunk');
      // A writer that died before patching sizes leaves 0 or too much: take what the file holds.
      const end = size === 0 || body + size > file.length ? file.length : body + size;
      return { format, sampleRate, channels, data: file.subarray(body, end) };
    }
    offset = body + size + (size % 2);
  }
  throw new WavFormatError('no data chunk');
}

export async function readWavFile(path: string): Promise<WavAudio> {
  return decodeWav(await readFile(path));
}

/** The audio as 16-bit samples, G.711 decoded. */
export function wavSamples(audio: WavAudio): Int16Array {
  if (audio.format !== 'pcm16') return decodeG711(audio.format, audio.data);
  const samples = new Int16Array(audio.data.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = audio.data.readInt16LE(i * 2);
  return samples;
}

/** Appends audio to a file as it comes; the header's sizes are right once close() resolved. */
export class WavFileWriter {
  private bytes = 0;
  /** Writes are chained so they land in order. */
  private queue: Promise<void> = Promise.resolve();
  /** The first failed write: later writes are skipped and close() rejects with it. */
  private failure: unknown;
  private closing: Promise<number> | undefined;

  private constructor(
    private readonly file: FileHandle,
    readonly format: WavFormat,
    readonly sampleRate: number,
  ) {}

  static async open(path: string, format: WavFormat, sampleRate = 8000): Promise<WavFileWriter> {
    const file = await open(path, 'w');
    const writer = new WavFileWriter(file, format, sampleRate);
    try {
      await file.write(writeHeader(format, sampleRate, 0), 0, headerBytes(format), 0);
    } catch (error) {
      await file.close();
      throw error;
    }
    return writer;
  }

  get dataBytes(): number {
    return this.bytes;
  }

  write(data: Uint8Array): void {
    if (this.closing !== undefined) throw new WavFormatError('write after close');
    const position = headerBytes(this.format) + this.bytes;
    this.bytes += data.length;
    this.queue = this.queue.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await this.file.write(data, 0, data.length, position);
      } catch (error) {
        this.failure = error;
      }
    });
  }

  /** Finishes the file; resolves with the number of data bytes written. */
  close(): Promise<number> {
    this.closing ??= (async () => {
      try {
        await this.queue;
        if (this.failure !== undefined) throw this.failure;
        await this.file.write(writeHeader(this.format, this.sampleRate, this.bytes), 0, headerBytes(this.format), 0);
      } finally {
        await this.file.close();
      }
      return this.bytes;
    })();
    return this.closing;
  }
}
