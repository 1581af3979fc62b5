/** Secrets `serve` generates (cli/serve.ts): an admin key must be usable as `--admin-key KEY`. */
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generated } from '../../src/cli/serve.js';

describe('generated secrets', () => {
  it('pass as the argument of --admin-key, as the CLI parses it, and are 256 bits', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const key = generated();
      // The CLI's own parse (strict): a value beginning with `-` is refused as ambiguous.
      const { values } = parseArgs({
        args: ['create-repo', '--admin-key', key],
        options: { 'admin-key': { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      expect(values['admin-key']).toBe(key);
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      seen.add(key);
    }
    expect(seen.size).toBe(2000);
  });
});
