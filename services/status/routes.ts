/**
 * The status page's routes: `/` and `/ui` lead to `/ui/`; the page and its files; the login form
 * (a cookie session held server-side); logout; and `GET /ui/api/status`, the JSON the page draws.
 *
 * CSRF: the session cookie is `SameSite=Strict`, so no other site's form or script carries it, and
 * both forms (login, logout) must also come from the page's own host (`Origin`, else `Referer`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../shared/error-catalog.js';
import { code } from '../shared/openapi.js';
import type { Asset } from './assets.js';
import { loginPage, type LoginNotice } from './login-page.js';
import type { LoginThrottle } from './login-throttle.js';
import { STATUS_SCHEMA } from './schemas.js';
import { isAdminToken, type SessionStore } from './sessions.js';

export const SESSION_COOKIE = 'fieldhook_session';
/** Forms carry one field, the token: anything larger is not ours. */
const FORM_BODY_LIMIT_BYTES = 4_096;

export interface StatusRoutesOptions {
  adminToken: string | undefined;
  /** Mark the cookie `Secure` (the app serves TLS). */
  secureCookie: boolean;
  sessions: SessionStore;
  throttle: LoginThrottle;
  snapshot: () => Promise<unknown>;
  assets: { get(name: string): Asset | undefined };
}

const hide = { schema: { hide: true } } as const;

export async function statusRoutes(app: FastifyInstance, opts: StatusRoutesOptions): Promise<void> {
  const { sessions, adminToken } = opts;
  app.addSchema(STATUS_SCHEMA);
  // HTML forms post urlencoded; parsed here, for these routes only.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT_BYTES }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook('onSend', async (_request, reply) => {
    // Everything the page loads is its own: no inline script, no other origin, no framing.
    void reply.header(
      'content-security-policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'same-origin');
  });

  const sessionOf = (request: FastifyRequest) => cookie(request.headers.cookie, SESSION_COOKIE);
  const loggedIn = (request: FastifyRequest) => sessions.valid(sessionOf(request));
  const setCookie = (reply: FastifyReply, value: string, maxAgeS: number) =>
    reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=${value}; Path=/ui; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${opts.secureCookie ? '; Secure' : ''}`,
    );
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);

  app.get('/', hide, async (_request, reply) => reply.redirect('/ui/'));
  app.get('/ui', hide, async (_request, reply) => reply.redirect('/ui/'));

  app.get('/ui/', hide, async (request, reply) => {
    if (!loggedIn(request)) return reply.redirect(sessionOf(request) ? '/ui/login?ended=1' : '/ui/login', 303);
    const page = opts.assets.get('index.html')!;
    return reply.header('cache-control', 'no-store').type(page.type).send(page.body);
  });

  app.get<{ Params: { name: string } }>('/ui/assets/:name', hide, async (request, reply) => {
    const asset = opts.assets.get(request.params.name);
    if (!asset) throw Errors.httpNotFound();
    return reply.header('cache-control', 'no-cache').type(asset.type).send(asset.body);
  });

  app.get<{ Querystring: { ended?: string; out?: string } }>('/ui/login', hide, async (request, reply) => {
    if (loggedIn(request)) return reply.redirect('/ui/', 303);
    const notice: LoginNotice = !adminToken ? 'no-token' : request.query.out ? 'logged-out' : request.query.ended ? 'expired' : undefined;
    return html(reply, 200, loginPage(notice));
  });

  app.post<{ Body: Record<string, string> | undefined }>('/ui/login', hide, async (request, reply) => {
    assertSameOrigin(request);
    if (!adminToken) return html(reply, 401, loginPage('no-token'));
    const retryAfterS = opts.throttle.retryAfterS(request.ip);
    if (retryAfterS > 0) return html(reply.header('retry-after', String(retryAfterS)), 429, loginPage('throttled'));
    const token = typeof request.body?.token === 'string' ? request.body.token.trim() : '';
    if (token === '') return html(reply, 401, loginPage('empty'));
    if (!isAdminToken(token, adminToken)) {
      opts.throttle.failed(request.ip);
      request.log.warn({ ip: request.ip }, 'status page login refused: wrong admin token');
      return html(reply, 401, loginPage('wrong-token'));
    }
    sessions.end(sessionOf(request));
    const session = sessions.create();
    setCookie(reply, session.id, Math.floor(session.ttlMs / 1000));
    return reply.redirect('/ui/', 303);
  });

  app.post('/ui/logout', hide, async (request, reply) => {
    assertSameOrigin(request);
    sessions.end(sessionOf(request));
    setCookie(reply, '', 0);
    return reply.redirect('/ui/login?out=1', 303);
  });

  app.get(
    '/ui/api/status',
    {
      schema: {
        tags: ['status'],
        summary: 'Everything the status page shows: fleet, fields, webhook subscriptions and the pipeline, as one snapshot.',
        description:
          'Answers to a status page session (the `fieldhook_session` cookie set by logging in at `/ui/login`) or to the admin token ' +
          'as a bearer token. A section that cannot be read now (InfluxDB unreachable) is left empty and named in `problems`.',
        security: [{ bearerAuth: [] }],
        response: { 200: { $ref: 'StatusSnapshot#' } },
      },
      config: {
        openapi: {
          problems: {
            401: `${code(Errors.statusLoginRequired)}: no live session and no valid admin bearer token.`,
            429: `${code(Errors.statusLoginThrottled)}: too many wrong tokens (bearer or login form) from this address; \`Retry-After\` says when to try again.`,
          },
        },
      },
    },
    async (request, reply) => {
      if (!loggedIn(request)) {
        const header = request.headers.authorization;
        if (header === undefined) throw Errors.statusLoginRequired();
        // A bearer token is a guess at the admin token like the form's: the same throttle holds both.
        const retryAfterS = opts.throttle.retryAfterS(request.ip);
        if (retryAfterS > 0) throw Errors.statusLoginThrottled(undefined, { retryAfterS });
        if (!bearerIsAdmin(header, adminToken)) {
          opts.throttle.failed(request.ip);
          request.log.warn({ ip: request.ip }, 'status data refused: wrong admin bearer token');
          throw Errors.statusLoginRequired();
        }
      }
      return reply.header('cache-control', 'no-store').send(await opts.snapshot());
    },
  );
}

function bearerIsAdmin(header: string | undefined, adminToken: string | undefined): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match !== null && isAdminToken(match[1]!.trim(), adminToken);
}

/** One cookie's value from a `Cookie` header. */
function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * A form must come from this page: its `Origin` (or, from browsers that send none, its `Referer`)
 * is this server's own origin. A request with neither is refused too: browsers send one on every
 * form post, and other clients have the bearer token.
 */
function assertSameOrigin(request: FastifyRequest): void {
  // Hosts, not whole origins: behind a proxy that ends TLS the page is https while this server sees http.
  const from = hostOf(request.headers.origin) ?? hostOf(request.headers.referer);
  // Through URL, as the Origin's host is: a default port (`:80` on http) is dropped from both.
  const own = hostOf(`${request.protocol}://${request.host}`);
  if (from === undefined || from !== own) throw Errors.statusCrossOrigin(`This form is accepted from the status page (${request.host}) only`);
}

function hostOf(url: string | undefined): string | undefined {
  if (!url || url === 'null') return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
