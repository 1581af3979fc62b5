/**
 * The JSON API core: one request in, one response out, over web standards only. Each request is
 * authenticated (401 before anything else inside the prefix; only `public` rows, the OpenAPI
 * document, are served without credentials), matched against the route table
 * (404, or 405 with `Allow`), checked against the row's access level (403), then handled.
 * `HEAD` answers its `GET` row's status and headers without the body.
 */
import { NotFoundError } from '../../errors.js';
import type { CoreRequest } from '../exchange.js';
import { authenticate, grant, PUBLIC_CLAIMS, type Principal } from './auth.js';
import type { ApiOptions } from './options.js';
import { apiErrorResponse, methodNotAllowed, type ApiResponse } from './responses.js';
import { API_ROUTER } from './routes.js';
import { enableArchives, enableReview } from '../../repo/enable.js';

// The API's routes diff, compare, merge, revert and archive: repositories must load those services.
enableReview();
enableArchives();

/** Handles one request; null when the path is not under the API prefix. Never throws. */
export async function handleApiRequest(req: CoreRequest, options: ApiOptions): Promise<ApiResponse | null> {
  let url: URL;
  try {
    url = new URL(req.url, req.origin);
  } catch {
    return null;
  }
  const prefix = (options.prefix ?? '/api/v1').replace(/\/+$/, '');
  if (url.pathname !== prefix && !url.pathname.startsWith(prefix + '/')) return null;
  const segments = url.pathname
    .slice(prefix.length)
    .split('/')
    .filter((s) => s !== '');
  try {
    const found = API_ROUTER.match(req.method, segments);
    const open = found !== null && 'route' in found && found.route.access === 'public';
    const principal: Principal = open ? { admin: false, claims: PUBLIC_CLAIMS } : await authenticate(req.headers, options);
    if (found === null) throw new NotFoundError('ERR_NOT_FOUND', `no such API route: ${url.pathname}`);
    let res: ApiResponse;
    if ('allow' in found) res = methodNotAllowed(found.allow);
    else {
      const { route, params } = found;
      res = await route.handle({ req, url, options, principal, params, ...grant(principal, route.access, params.repo) });
    }
    return req.method === 'HEAD' ? { ...res, body: null } : res;
  } catch (err) {
    return apiErrorResponse(err, options.onError);
  }
}
