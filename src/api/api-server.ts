/**
 * The Switchvox-compatible HTTP surface: POST /xml and POST /json, Content-Type ignored. Authentication runs
 * before the body is read; the handler is envelope parse -> method registry -> method -> renderer. Every failure
 * the client can cause is an error envelope with a documented code, never a stack trace. A request repeated on a
 * keep-alive connection with the Basic credentials it was accepted with skips Fastify (answerRepeated).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiErrors, type ApiError } from './api-error.ts';
import type { ApiAuthenticator } from './api-authenticator.ts';
import { parseEnvelope, type Format } from './envelope.ts';
import type { ApiServices, Principal } from './methods/api-method.ts';
import { METHODS } from './methods/method-registry.ts';
import { renderResponse, type MethodOutcome } from './render.ts';

export interface ApiServerOptions {
  readonly services: ApiServices;
  readonly authenticator: ApiAuthenticator;
  readonly logger: Logger;
  /** Absent: plain HTTP. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

const CONTENT_TYPE: Readonly<Record<Format, string>> = {
  xml: 'text/xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/** What every request's Content-Type is made to be before Fastify reads the body. */
const BODY_TYPE = 'application/octet-stream';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function formatOf(url: string): Format {
  return url.startsWith('/json') ? 'json' : 'xml';
}

function send(reply: FastifyReply, format: Format, method: string, outcome: MethodOutcome, status = 200): FastifyReply {
  return reply.code(status).header('content-type', CONTENT_TYPE[format]).send(renderResponse(format, method, outcome));
}

/** The bytes send() has Fastify write, written by hand: the same headers in the same order. */
function write(res: ServerResponse, format: Format, method: string, outcome: MethodOutcome, status = 200, close = false): void {
  const payload = renderResponse(format, method, outcome);
  const type = CONTENT_TYPE[format];
  const length = String(Buffer.byteLength(payload));
  res.writeHead(status, close ? { connection: 'close', 'content-type': type, 'content-length': length } : { 'content-type': type, 'content-length': length });
  res.end(payload);
}

/** A request the server answers: envelope parse -> method registry -> method, then `done` with the outcome. */
function answer<R>(
  body: Buffer | undefined,
  format: Format,
  principal: Principal,
  services: ApiServices,
  done: (method: string, outcome: MethodOutcome) => R,
): R | Promise<R> {
  const env = parseEnvelope(body ?? '', format);
  if (!env.ok) return done(env.method, { errors: [env.error] });
  const { method: name, params } = env.request;
  const method = METHODS.get(name);
  if (method === undefined) return done(name, { errors: [ApiErrors.unknownMethod(name)] });
  if (principal.kind === 'user' && !method.userMethod) return done(name, { errors: [ApiErrors.permissionDenied(name)] });
  const outcome = method.handle(params, principal, services);
  // Validation failures answer synchronously; only work that waits (a call being placed) goes through a promise.
  return outcome instanceof Promise ? outcome.then((o) => done(name, o)) : done(name, outcome);
}

interface FailedAnswer {
  readonly status: number;
  readonly error: ApiError;
  /** A bug, not the client's doing: worth a log line. */
  readonly internal: boolean;
}

/** How a failed request is answered: the client's errors (Fastify's 4xx) with their status, anything else 500. */
function failedAnswer(err: FastifyError, maxBody: number): FailedAnswer {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, error: ApiErrors.bodyTooLarge(maxBody), internal: false };
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, error: ApiErrors.malformed(err.message.replace(/\.$/, '')), internal: false };
  }
  return { status: 500, error: ApiErrors.internal(), internal: true };
}

export function createApiServer(o: ApiServerOptions): FastifyInstance {
  const { services, authenticator, logger: log } = o;
  const maxBody = services.config.api.max_body_bytes;
  const app = Fastify({
    // No Fastify logger: it would build a child logger per request and log each one. The few events worth a line
    // (lockouts, bugs) are logged below with ours.
    logger: false,
    bodyLimit: maxBody,
    ...(o.tls === undefined ? {} : { https: { cert: o.tls.cert, key: o.tls.key } }),
  }) as unknown as FastifyInstance;

  app.decorateRequest('principal', null);
  app.removeAllContentTypeParsers();
  // Under its exact media type, not '*': Fastify caches the parser found for a registered type, while a '*'
  // match parses the Content-Type again on every request. onRequest sets this type on every request.
  app.addContentTypeParser(BODY_TYPE, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Callback style, not async: on the hot path (good credentials) no promise is created before the handler.
  app.addHook('onRequest', (req, reply, done) => {
    // Clients send anything from application/xml to text/json, or a malformed value: the path decides.
    req.headers['content-type'] = BODY_TYPE;
    const auth = authenticator.authenticate(req.headers.authorization, req.method, req.url, req.ip, req.raw.socket);
    if (auth.ok) {
      req.principal = auth.principal;
      done();
      return;
    }
    const format = formatOf(req.url);
    if (auth.status === 429) {
      if (auth.newlyLocked) log.warn({ address: req.ip, seconds: auth.retryAfterSeconds }, 'API logins locked out for this address');
      reply.header('retry-after', String(auth.retryAfterSeconds));
      send(reply, format, '', { errors: [ApiErrors.lockedOut(auth.retryAfterSeconds)] }, 429);
      return;
    }
    reply.header('www-authenticate', auth.challenges);
    const refuse = () => send(reply, format, '', { errors: [ApiErrors.authenticationRequired()] }, 401);
    if (auth.delayMs > 0) void delay(auth.delayMs).then(refuse);
    else refuse();
  });

  const handler = (format: Format) => (req: FastifyRequest, reply: FastifyReply) =>
    answer(req.body as Buffer | undefined, format, req.principal as Principal, services, (method, outcome) => send(reply, format, method, outcome));
  app.post('/xml', handler('xml'));
  app.post('/json', handler('json'));

  app.setNotFoundHandler((req, reply) => send(reply, formatOf(req.url), '', { errors: [ApiErrors.notFound(req.url)] }, 404));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const failed = failedAnswer(err, maxBody);
    if (failed.internal) log.error({ err, method: req.method, url: req.url }, 'API request failed');
    return send(reply, formatOf(req.url), '', { errors: [failed.error] }, failed.status);
  });

  // Closing: Fastify answers what still arrives on open connections (503, Connection: close).
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  const failed = (req: IncomingMessage, res: ServerResponse, format: Format, err: FastifyError, close: boolean): void => {
    const f = failedAnswer(err, maxBody);
    if (f.internal) log.error({ err, method: req.method, url: req.url }, 'API request failed');
    write(res, format, '', { errors: [f.error] }, f.status, close);
  };

  /**
   * The common request, answered without Fastify's routing, hooks and body parser, which cost more than the API's
   * own work: POST /xml or /json with a Content-Length within the limit and the Basic credentials its connection
   * was accepted with. Everything else, the first request of each connection included, goes through Fastify;
   * the answers are the same bytes (a test compares both paths).
   */
  const answerRepeated = (req: IncomingMessage, res: ServerResponse): boolean => {
    const format = req.url === '/xml' ? 'xml' : req.url === '/json' ? 'json' : undefined;
    if (format === undefined || req.method !== 'POST' || closing) return false;
    const headers = req.headers;
    const length = headers['content-length'];
    if (length === undefined || headers['transfer-encoding'] !== undefined || !(Number(length) <= maxBody)) return false;
    const address = req.socket.remoteAddress;
    if (address === undefined) return false;
    const principal = authenticator.repeatedBasic(headers.authorization, address, req.socket);
    if (principal === null) return false;
    // The listeners are inline arrows: the TS toolchain names every function it assigns to a name, a property
    // definition per closure per request.
    const chunks: Buffer[] = [];
    let ended = false;
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      ended = true;
      try {
        const r = answer(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), format, principal, services, (method, outcome) =>
          write(res, format, method, outcome),
        );
        if (r instanceof Promise) r.catch((err: FastifyError) => failed(req, res, format, err, false));
      } catch (err) {
        failed(req, res, format, err as FastifyError, false);
      }
    });
    // As Fastify's body reader: a broken upload is the client's error (400) and the connection is closed. Node
    // emits no error once the body is complete.
    req.on('error', (err: FastifyError) => {
      if (ended) return;
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      failed(req, res, format, err, true);
    });
    return true;
  };
  // Fastify's one request listener is kept for everything answerRepeated leaves to it; the server stays Fastify's.
  const server = app.server;
  const listeners = server.listeners('request');
  const fastify = listeners[0] as ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  if (listeners.length !== 1 || fastify === undefined) throw new Error(`Fastify's server has ${listeners.length} request listeners, expected 1`);
  server.removeListener('request', fastify);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!answerRepeated(req, res)) fastify(req, res);
  });
  return app;
}
