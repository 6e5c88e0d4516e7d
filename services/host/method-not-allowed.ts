import type { FastifyInstance } from 'fastify';
import { Errors } from '../shared/error-catalog.js';

/** A known path asked with a method it does not take is a 405 naming the ones it does, not a 404. */
export function answerMethodNotAllowed(app: FastifyInstance): void {
  const paths = knownPaths(app);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const allowed = paths.allowed(request.url);
    if (allowed.length === 0) return;
    void reply.header('allow', allowed.join(', '));
    throw Errors.httpMethodNotAllowed(`This path takes ${allowed.join(', ')}`, { allowed });
  });
}

/**
 * The paths of the app's routes and their methods, collected as they are added, for 405 answers.
 * A path parameter matches one non-empty segment.
 */
function knownPaths(app: FastifyInstance): { allowed(url: string): string[] } {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const source = route.url
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const pattern = new RegExp(`^${source}$`);
    const same = routes.find((r) => r.pattern.source === pattern.source);
    if (same) same.methods.push(...methods);
    else routes.push({ pattern, methods: [...methods] });
  });
  return {
    allowed(url) {
      const path = url.split('?')[0]!;
      const methods = new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods));
      return [...methods].sort();
    },
  };
}
