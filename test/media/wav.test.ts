import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeG711 } from '../../src/media/g711.ts';
import { renderTone } from '../../src/media/tones.ts';
import { decodeWav, encodeWav, pcm16ToBytes, readWavFile, WavFileWriter, WavFormatError, wavSamples } from '../../src/media/wav.ts';

const tone = renderTone({ frequencies: [1000], cadenceMs: [] }).subarray(0, 800);

test('PCM16 WAV: the canonical 44-byte header and the samples back', () => {
  const file = encodeWav({ format: 'pcm16', data: pcm16ToBytes(tone) });
  assert.equal(file.length, 44 + 1600);
  assert.equal(file.toString('ascii', 0, 4), 'RIFF');
  assert.equal(file.readUInt32LE(4), file.length - 8);
  assert.equal(file.readUInt16LE(20), 1);
  assert.equal(file.readUInt32LE(28), 16000, 'byte rate');
  const audio = decodeWav(file);
  assert.equal(audio.format, 'pcm16');
  assert.equal(audio.sampleRate, 8000);
  assert.equal(audio.channels, 1);
  assert.deepEqual(wavSamples(audio), tone);
});

for (const [format, tag] of [
  ['PCMA', 6],
  ['PCMU', 7],
] as const) {
  test(`${format} WAV: format tag ${tag}, fact chunk, decoded to 16-bit samples`, () => {
    const bytes = encodeG711(format, tone);
    const file = encodeWav({ format, data: bytes });
    assert.equal(file.readUInt16LE(20), tag);
    assert.equal(file.toString('ascii', 38, 42), 'fact');
    assert.equal(file.readUInt32LE(46), 800);
    const audio = decodeWav(file);
    assert.equal(audio.format, format);
    assert.deepEqual([...audio.data], [...bytes]);
    const samples = wavSamples(audio);
    for (let i = 0; i < samples.length; i++) {
      assert.ok(Math.abs((samples[i] as number) - (tone[i] as number)) <= Math.abs(tone[i] as number) / 16 + 16);
    }
  });
}

test('unknown chunks are skipped; non-WAV, unsupported formats and missing data are WavFormatErrors', () => {
  const plain = encodeWav({ format: 'pcm16', data: pcm16ToBytes(tone) });
  const list = Buffer.from('LIST\x05\x00\x00\x00abcde\x00', 'latin1');
  const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
  assert.equal(wavSamples(decodeWav(withList)).length, 800);

  assert.throws(() => decodeWav(Buffer.from('not a wav file at all')), WavFormatError);
  const float = Buffer.from(plain);
  float.writeUInt16LE(3, 20);
  assert.throws(() => decodeWav(float), WavFormatError);
  assert.throws(() => decodeWav(plain.subarray(0, 36)), WavFormatError);
});

test('WavFileWriter streams data and patches the sizes on close', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wav-'));
  try {
    const path = join(dir, 'out.wav');
    const writer = await WavFileWriter.open(path, 'pcm16');
    writer.write(pcm16ToBytes(tone.subarray(0, 400)));
    writer.write(pcm16ToBytes(tone.subarray(400)));
    assert.equal(await writer.close(), 1600);
    assert.equal(await writer.close(), 1600);
    assert.throws(() => writer.write(Buffer.alloc(2)), WavFormatError);
    const audio = await readWavFile(path);
    assert.deepEqual(wavSamples(audio), tone);
    assert.equal((await readFile(path)).readUInt32LE(40), 1600);

    const unfinished = encodeWav({ format: 'pcm16', data: pcm16ToBytes(tone) });
    unfinished.writeUInt32LE(0, 40);
    await writeFile(path, unfinished);
    assert.equal(wavSamples(await readWavFile(path)).length, 800, 'a file never closed is still readable');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
