/**
 * Setup file of the unit tier (vitest.config.ts): makes starting a child process or listening
 * on a port throw, so a test that needs the git binary or a server fails loudly in
 * `npm run test:unit` instead of slowing the fast tier down. Such a test belongs in the full
 * tier (see test/README.md).
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const refuse = (what: string) => () => {
  throw new Error(`unit tier: ${what} is not allowed here; a test that needs it belongs in the full tier (test/README.md)`);
};

for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
  (childProcess as Record<string, unknown>)[name] = refuse(`child_process.${name}`);
}
net.Server.prototype.listen = refuse('listening on a port') as never;
// Named imports (`import { spawn } from 'node:child_process'`) read the ESM bindings: update them.
syncBuiltinESMExports();
