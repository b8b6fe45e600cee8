/**
 * The HTTPS certificate: the configured files, else a self-signed pair generated on first start into the data
 * folder and reused after (clients pin or ignore it; a new one each start would break pinning).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** True when this call generated the pair. */
  readonly generated: boolean;
}

export async function loadOrCreateCertificate(dataDir: string, configured: { cert?: string; key?: string }): Promise<TlsMaterial> {
  if (configured.cert !== undefined && configured.key !== undefined) {
    return { cert: readFileSync(configured.cert, 'utf8'), key: readFileSync(configured.key, 'utf8'), generated: false };
  }
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), generated: false };
  }
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 10);
  // ECDSA P-256: handshakes several times cheaper than RSA-2048, which matters with many short-lived clients.
  const pems = await generate([{ name: 'commonName', value: 'originate' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, generated: true };
}
