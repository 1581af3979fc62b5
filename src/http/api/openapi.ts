/**
 * `GET /openapi.json`: an OpenAPI 3.1 description of the JSON API, generated from the route table
 * (paths, methods, who may call) and the descriptions in openapi-routes.ts, with the schemas of
 * openapi-schemas.ts. A route without a description fails the build of the document, so the
 * table and the description cannot drift apart. Public: no credentials needed.
 */
import { SCHEMAS } from './openapi-schemas.js';
import { ROUTE_DOCS, TEXT_ALTERNATIVES, type AnswerDoc, type RouteDoc } from './openapi-routes.js';
import { json } from './responses.js';
import type { ApiRoute } from './router.js';

type Json = Record<string, unknown>;

/** `/repos/:repo/files/*path?` → `/repos/{repo}/files/{path}`, with the path parameters in order. */
export function openApiPath(path: string): { path: string; params: { name: string; rest: boolean }[] } {
  const params: { name: string; rest: boolean }[] = [];
  const out = path
    .split('/')
    .map((s) => {
      if (s.startsWith(':')) {
        params.push({ name: s.slice(1), rest: s === ':repo' });
        return `{${s.slice(1)}}`;
      }
      if (s.startsWith('*')) {
        const name = s.slice(1).replace(/\?$/, '');
        params.push({ name, rest: true });
        return `{${name}}`;
      }
      return s;
    })
    .join('/');
  return { path: out, params };
}

function answer(doc: AnswerDoc, description: string): Json {
  if (typeof doc === 'string') return { description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${doc}` } } } };
  if ('empty' in doc) return { description };
  const content: Json = {};
  for (const type of [doc.bytes, ...(doc.more ?? [])]) content[type] = { schema: { type: 'string', contentMediaType: type } };
  return { description, content };
}

function requestContent(doc: RouteDoc): Json {
  const content: Json = { 'application/json': { schema: { $ref: `#/components/schemas/${doc.body}` } } };
  if (doc.altBody !== undefined) {
    content[doc.altBody] = {
      schema: { type: 'string', description: doc.altLines === undefined ? doc.summary : `lines of JSON: ${doc.altLines}` },
      ...(doc.altLines === undefined ? {} : { 'x-line-schema': { $ref: `#/components/schemas/${doc.altLines}` } }),
    };
  }
  return content;
}

const ACCESS_TEXT: Record<ApiRoute['access'], string> = {
  admin: 'Needs the admin key (`x-api-key`).',
  read: 'Needs the admin key or a token of the repository with `git:read`.',
  write: "Needs the admin key or a token of the repository with `git:write`; the token's ref policies judge every ref that moves.",
  public: 'Public.',
};

function operation(key: string, route: ApiRoute, doc: RouteDoc, params: { name: string; rest: boolean }[]): Json {
  const parameters: Json[] = params.map((p) => ({
    name: p.name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
    ...(p.rest ? { description: p.name === 'repo' ? '`name`, `owner/name` or `owner%2Fname`' : 'may contain `/`' } : {}),
  }));
  for (const [name, q] of Object.entries(doc.query ?? {})) {
    const schema = q.repeat ? { type: 'array', items: { type: q.type } } : { type: q.type };
    parameters.push({ name, in: 'query', required: q.required === true, schema, ...(q.description ? { description: q.description } : {}) });
  }
  const responses: Json = {};
  for (const [status, a] of Object.entries(doc.answers)) {
    const r = answer(a, doc.summary);
    const text = TEXT_ALTERNATIVES[key];
    if (text !== undefined && status === '200') (r.content as Json)[text.bytes] = { schema: { type: 'string' } };
    responses[status] = r;
  }
  const err = { $ref: '#/components/responses/Error' };
  Object.assign(responses, { '4XX': err, '5XX': err });
  return {
    operationId: `${route.method.toLowerCase()}${openApiPath(route.path)
      .path.replace(/[{}]/g, '')
      .split(/[/.-]/)
      .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : ''))
      .join('')}`,
    summary: doc.summary,
    description: ACCESS_TEXT[route.access],
    tags: [doc.tag],
    ...(route.access === 'public' ? { security: [] } : {}),
    parameters,
    ...(doc.body ? { requestBody: { required: true, content: requestContent(doc) } } : {}),
    responses,
  };
}

/** The OpenAPI document of `routes` served under `prefix`; throws for a route without a description. */
export function buildOpenApi(routes: readonly ApiRoute[], prefix = '/api/v1'): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    const doc = ROUTE_DOCS[key];
    if (doc === undefined) throw new Error(`openapi: no description for ${key}`);
    const { path, params } = openApiPath(route.path);
    const item = (paths[prefix + path] ??= {});
    item[route.method.toLowerCase()] = operation(key, route, doc, params);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'level-git JSON API', version: 'v1', description: 'Repositories, commits, files, branches, review and merge, tokens. See docs/api.md.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: SCHEMAS,
      responses: {
        Error: {
          description: 'An error with a stable code (docs/errors.md)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        token: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
    },
    security: [{ apiKey: [] }, { token: [] }],
  };
}

let cached: { routes: readonly ApiRoute[]; prefix: string; body: Json } | undefined;

/** The document route (public). It describes the table it is part of, read lazily to avoid an import cycle. */
export function openApiRoutes(table: () => readonly ApiRoute[]): readonly ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/openapi.json',
      access: 'public',
      handle: async (ctx) => {
        const prefix = (ctx.options.prefix ?? '/api/v1').replace(/\/+$/, '');
        const routes = table();
        if (cached === undefined || cached.routes !== routes || cached.prefix !== prefix) cached = { routes, prefix, body: buildOpenApi(routes, prefix) };
        return json(200, cached.body);
      },
    },
  ];
}
