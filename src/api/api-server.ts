/**
 * The Switchvox-compatible HTTP surface: POST /xml and POST /json, Content-Type ignored. Authentication runs
 * before the body is read; the handler is envelope parse -> method registry -> method -> renderer. Every failure
 * the client can cause is an error envelope with a documented code, never a stack trace.
 */
import { setTimeout as delay } from 'node:timers/promises';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiErrors } from './api-error.ts';
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

  const handler = (format: Format) => (req: FastifyRequest, reply: FastifyReply) => {
    const env = parseEnvelope((req.body as Buffer | undefined) ?? '', format);
    if (!env.ok) return send(reply, format, env.method, { errors: [env.error] });
    const { method: name, params } = env.request;
    const method = METHODS.get(name);
    if (method === undefined) return send(reply, format, name, { errors: [ApiErrors.unknownMethod(name)] });
    const principal = req.principal as Principal;
    if (principal.kind === 'user' && !method.userMethod) {
      return send(reply, format, name, { errors: [ApiErrors.permissionDenied(name)] });
    }
    const outcome = method.handle(params, principal, services);
    // Validation failures answer synchronously; only work that waits (a call being placed) goes through a promise.
    return outcome instanceof Promise ? outcome.then((o) => send(reply, format, name, o)) : send(reply, format, name, outcome);
  };
  app.post('/xml', handler('xml'));
  app.post('/json', handler('json'));

  app.setNotFoundHandler((req, reply) => send(reply, formatOf(req.url), '', { errors: [ApiErrors.notFound(req.url)] }, 404));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const format = formatOf(req.url);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, format, '', { errors: [ApiErrors.bodyTooLarge(maxBody)] }, 413);
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return send(reply, format, '', { errors: [ApiErrors.malformed(err.message.replace(/\.$/, ''))] }, err.statusCode);
    }
    log.error({ err, method: req.method, url: req.url }, 'API request failed');
    return send(reply, format, '', { errors: [ApiErrors.internal()] }, 500);
  });
  return app;
}
