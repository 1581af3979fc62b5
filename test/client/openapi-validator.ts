/**
 * A `fetch` that checks every answer of the JSON API against the server's own openapi.json:
 * the operation is found by method and path, the status must be one the operation lists (or an
 * error range), and a JSON body must validate against its schema (Ajv, JSON Schema 2020-12).
 * It records which operations answered with a success, so a test can require all of them.
 */
import Ajv2020 from 'ajv/dist/2020.js';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, any> }>>; components: any };

interface Op {
  key: string;
  method: string;
  re: RegExp;
  params: number;
  responses: Record<string, any>;
}

/** Builds the validating fetch over `doc` (its paths carry the API prefix). */
export function openApiFetch(doc: Doc) {
  const ajv = new (Ajv2020 as any)({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'openapi', components: doc.components });
  const ops: Op[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const parts = path
        .split('/')
        .map((s) => (s === '{repo}' ? '[^/]+' : /^\{.+\}$/.test(s) && path.endsWith(s) ? '.*' : /^\{.+\}$/.test(s) ? '[^/]+' : s.replace(/\./g, '\\.')));
      ops.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        re: new RegExp(`^${parts.join('/')}$`),
        params: (path.match(/\{/g) ?? []).length,
        responses: op.responses,
      });
    }
  }
  ops.sort((a, b) => a.params - b.params);
  const covered = new Set<string>();
  const problems: string[] = [];
  const validators = new Map<string, (v: unknown) => boolean>();
  const validatorOf = (ref: string) => {
    let v = validators.get(ref);
    if (v === undefined) validators.set(ref, (v = ajv.compile({ $ref: `openapi${ref}` })));
    return v!;
  };

  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init);
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const method = (init?.method ?? 'GET').toUpperCase();
    const op = ops.find((o) => o.method === method && o.re.test(url.pathname));
    if (op === undefined) {
      problems.push(`${method} ${url.pathname}: no operation in openapi.json`);
      return res;
    }
    const status = String(res.status);
    const spec = op.responses[status] ?? op.responses[`${status[0]}XX`];
    if (spec === undefined) {
      problems.push(`${op.key}: status ${status} is not documented`);
      return res;
    }
    if (res.ok) covered.add(op.key);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const schema = spec.$ref !== undefined ? { $ref: '#/components/schemas/Error' } : spec.content?.[type]?.schema;
    if (res.status === 204 || res.status === 304 || method === 'HEAD') return res;
    if (schema === undefined) {
      problems.push(`${op.key} ${status}: content type ${type} not documented`);
      return res;
    }
    if (type === 'application/json' && schema.$ref !== undefined) {
      const text = await res.clone().text();
      const validate = validatorOf(schema.$ref);
      if (!validate(JSON.parse(text))) problems.push(`${op.key} ${status}: ${ajv.errorsText((validate as any).errors)} in ${text.slice(0, 300)}`);
    }
    return res;
  };
  return { fetch: wrapped as typeof fetch, covered, problems, operations: ops.map((o) => o.key) };
}
