/** The unit tier's guard (unit-guard.ts) is in force: child processes and listening sockets throw. */
import { exec, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';

describe('unit tier guard', () => {
  it('refuses child processes and listening sockets', () => {
    expect(() => execFileSync('git', ['--version'])).toThrow(/unit tier/);
    expect(() => spawn('git', ['--version'])).toThrow(/unit tier/);
    expect(() => exec('true')).toThrow(/unit tier/);
    expect(() => createServer().listen(0)).toThrow(/unit tier/);
  });
});
