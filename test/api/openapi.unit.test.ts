/**
 * openapi.json is generated from the route table: every row has a description and every
 * description a row, path patterns become OpenAPI templates, and the document's shape holds.
 */
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../src/http/api/routes.js';
import { buildOpenApi, openApiPath } from '../../src/http/api/openapi.js';
import { ROUTE_DOCS } from '../../src/http/api/openapi-routes.js';
import { SCHEMAS } from '../../src/http/api/openapi-schemas.js';

describe('openapi.json from the route table', () => {
  it('describes every route, and describes no route the table lacks', () => {
    const keys = API_ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(keys.filter((k) => ROUTE_DOCS[k] === undefined)).toEqual([]);
    expect(Object.keys(ROUTE_DOCS).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('refuses a route without a description', () => {
    expect(() =>
      buildOpenApi([...API_ROUTES, { method: 'GET', path: '/nowhere', access: 'admin', handle: async () => ({ status: 204, headers: {}, body: null }) }]),
    ).toThrow(/no description for GET \/nowhere/);
  });

  it('turns path patterns into templates', () => {
    expect(openApiPath('/repos/:repo/files/*path?')).toEqual({
      path: '/repos/{repo}/files/{path}',
      params: [
        { name: 'repo', rest: true },
        { name: 'path', rest: true },
      ],
    });
    expect(openApiPath('/repos/:repo/commits/:sha/diff').path).toBe('/repos/{repo}/commits/{sha}/diff');
  });

  it('is an OpenAPI 3.1 document whose references all resolve', () => {
    const doc = buildOpenApi(API_ROUTES, '/api/v1') as any;
    expect(doc.openapi).toBe('3.1.0');
    const refs = JSON.stringify(doc).match(/"#\/components\/(schemas|responses)\/[A-Za-z]+"/g) ?? [];
    for (const r of new Set(refs)) {
      const [, kind, name] = JSON.parse(r).split('/').slice(1);
      expect(doc.components[kind][name], r).toBeDefined();
    }
    expect(Object.keys(SCHEMAS).length).toBeGreaterThan(20);
    const ids = Object.values(doc.paths).flatMap((item: any) => Object.values(item).map((op: any) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths['/api/v1/openapi.json'].get.security).toEqual([]);
  });
});
