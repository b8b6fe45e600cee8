/**
 * Starts the real server (buildApp) from config YAML on 127.0.0.1 port 0 with a fresh data folder, and gives
 * a client that speaks the API the way real clients do: HTTPS (self-signed, unverified), keep-alive, Digest
 * or Basic, answering 401 challenges.
 */
import { request as httpsRequest, Agent } from 'node:https';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildApp, type App } from '../../src/app.ts';
import type { Originator } from '../../src/calls/originator.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { answerChallenge } from '../../src/sip/auth/digest.ts';

export interface TestServer {
  readonly app: App;
  readonly dataDir: string;
  readonly httpsUrl: string;
  /** Set when the config has api.http. */
  readonly httpUrl: string | undefined;
  readonly adminPassword: string;
  close(): Promise<void>;
}

/** Listener blocks of the YAML are replaced so every test binds its own ports. */
export async function startServer(yaml: string, opts: { originator?: Originator; dataDir?: string; http?: boolean } = {}): Promise<TestServer> {
  const config = parseConfig(yaml, 'test.yaml');
  const withPorts = {
    ...config,
    api: {
      ...config.api,
      https: { ...config.api.https, host: '127.0.0.1', port: 0 },
      http: opts.http === true ? { host: '127.0.0.1', port: 0 } : null,
    },
  };
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'originate-test-'));
  const app = await buildApp(withPorts, {
    dataDir,
    logger: pino({ level: 'silent' }),
    originator: opts.originator ?? 'none',
  });
  const addr = await app.listen();
  return {
    app,
    dataDir,
    httpsUrl: `https://127.0.0.1:${addr.https?.port}`,
    httpUrl: addr.http === undefined ? undefined : `http://127.0.0.1:${addr.http.port}`,
    adminPassword: app.credentials.adminPassword(),
    close: () => app.close(),
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Each WWW-Authenticate header as sent (node joins repeated headers in `headers`). */
  readonly challenges: readonly string[];
}

const insecure = new Agent({ keepAlive: true, rejectUnauthorized: false });

/** One request; no authentication logic. */
export function rawRequest(url: string, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST'): Promise<RawResponse> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      { method, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers }, ...(u.protocol === 'https:' ? { agent: insecure } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            challenges: res.headersDistinct['www-authenticate'] ?? [],
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export type AuthMode = 'digest-sha256' | 'digest-md5' | 'basic';

/** Sends the body authenticated as a client would: Basic up front, or Digest after the 401 challenge. */
export async function apiCall(url: string, body: string, user: string, password: string, mode: AuthMode = 'digest-sha256'): Promise<RawResponse> {
  if (mode === 'basic') {
    return rawRequest(url, body, { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
  }
  const first = await rawRequest(url, body);
  if (first.status !== 401) return first;
  const wanted = first.challenges.filter((c) => c.includes(mode === 'digest-md5' ? 'algorithm=MD5' : 'algorithm=SHA-256'));
  const authorization = answerChallenge({ challenge: wanted, method: 'POST', uri: new URL(url).pathname, username: user, password });
  return rawRequest(url, body, { authorization });
}
