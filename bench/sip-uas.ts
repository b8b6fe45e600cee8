// The calls/s a minimal UAS of ours (transport + transactions, just enough dialog logic inline) answers for
// `sipp -sn uac` over UDP with zero failed calls and zero retransmissions. Our UAS runs in a child process so sipp
// and node each get a core. Run directly: `node --import tsx bench/sip-uas.ts` prints every step.
import { fork, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createResponse, newTag } from '../src/sip/message/index.ts';
import { TransactionLayer } from '../src/sip/transaction/index.ts';
import { TransportLayer } from '../src/sip/transport/index.ts';

const SDP = Buffer.from('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n');
const SECONDS_PER_STEP = 5;
const RATES = [1000, 2000, 3000, 4000, 4500, 5000, 5500, 6000, 6500, 7000, 7500, 8000, 9000, 10000];

/** The UAS side: listens on an ephemeral UDP port, sends the port to the parent, answers until killed. */
async function serve(): Promise<void> {
  const transport = await TransportLayer.listen({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    publicHost: '127.0.0.1',
    udpReceiveBufferBytes: 8 * 1024 * 1024,
  });
  const layer = new TransactionLayer(transport, { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
  const port = transport.localEndpoint('udp').port;
  const contact = [['Contact', `<sip:bench@127.0.0.1:${port}>`]] as const;
  layer.onRequest((req, tx) => {
    if (tx === undefined) return; // the ACK of our 2xx: nothing more to do in a bench without media
    if (req.method === 'INVITE') {
      tx.respond(createResponse(req, 200, undefined, { toTag: newTag(), headers: contact, contentType: 'application/sdp', body: SDP }));
    } else {
      tx.respond(createResponse(req, 200));
    }
  });
  process.send?.({ port });
}

interface Step {
  rate: number;
  callsPerSec: number;
  successful: number;
  failed: number;
  retransmissions: number;
}

function lastCsvRow(csv: string): Record<string, string> {
  const lines = csv.trim().split('\n');
  const header = (lines[0] ?? '').split(';');
  const row = (lines[lines.length - 1] ?? '').split(';');
  return Object.fromEntries(header.map((h, i) => [h, row[i] ?? '']));
}

async function runStep(port: number, rate: number, dir: string): Promise<Step> {
  const calls = rate * SECONDS_PER_STEP;
  const stf = join(dir, `stat-${rate}.csv`);
  const code = await new Promise<number | null>((resolve) => {
    const sipp = spawn(
      'sipp',
      ['-sn', 'uac', `127.0.0.1:${port}`, '-i', '127.0.0.1', '-p', '0', '-t', 'u1', '-r', String(rate), '-m', String(calls),
        '-l', String(rate * 2), '-timeout', String(SECONDS_PER_STEP * 4 + 10), '-timeout_error', '-nostdin', '-buff_size', '8388608',
        '-trace_stat', '-stf', stf, '-fd', '1'],
      { stdio: 'ignore' },
    );
    sipp.on('close', resolve);
  });
  const row = lastCsvRow(await readFile(stf, 'utf8'));
  const successful = Number(row['SuccessfulCall(C)'] ?? 0);
  // Calls sipp never completed (it gave up at -timeout) count as failed too.
  const failed = Math.max(Number(row['FailedCall(C)'] ?? 0), code === 0 ? 0 : calls - successful);
  const retransmissions = Number(row['Retransmissions(C)'] ?? 0);
  // sipp's cumulative call rate: calls placed over the run, without its start-up and shut-down.
  return { rate, callsPerSec: Number(row['CallRate(C)'] ?? 0), successful, failed, retransmissions };
}

/** Raises the sipp call rate until a step has failures or retransmissions twice; reports the highest clean step. */
export async function benchUas(log: (step: Step) => void = () => {}): Promise<{ callsPerSec: number; failed: number; retransmissions: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const dir = await mkdtemp(join(tmpdir(), 'sip-uas-bench-'));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`UAS exited with ${code}`)));
    });
    let best: Step | undefined;
    let first: Step | undefined;
    const clean = (s: Step): boolean => s.failed === 0 && s.retransmissions === 0;
    for (const rate of RATES) {
      let step = await runStep(port, rate, dir);
      log(step);
      if (!clean(step)) {
        // The machine is shared: one stall elsewhere costs a step its zero; a rate counts as too high only when a
        // second run of it is not clean either.
        step = await runStep(port, rate, dir);
        log(step);
      }
      first ??= step;
      if (!clean(step)) break;
      best = step;
    }
    const result = best ?? first;
    return { callsPerSec: result?.callsPerSec ?? 0, failed: best === undefined ? (first?.failed ?? 0) : 0, retransmissions: best === undefined ? (first?.retransmissions ?? 0) : 0 };
  } finally {
    child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--serve')) {
  await serve();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchUas((s) =>
    console.log(
      `sipp -r ${s.rate}: ${Math.round(s.callsPerSec)} calls/s measured, ${s.successful} ok, ${s.failed} failed, ${s.retransmissions} retransmissions`,
    ),
  );
  console.log(`highest clean rate: ${Math.round(result.callsPerSec)} calls/s (${result.failed} failed, ${result.retransmissions} retransmissions)`);
}
