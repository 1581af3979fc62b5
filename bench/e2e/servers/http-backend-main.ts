/**
 * C git's smart HTTP server as a CGI behind node:http: every request spawns
 * `git http-backend` with the CGI variables, feeds it the request body, parses its CGI
 * headers and streams the rest back. Run as its own process so that the CPU of its
 * (waited-for) children — http-backend, upload-pack, pack-objects, receive-pack,
 * index-pack — shows up in this process's cutime+cstime.
 *
 * usage: node --import tsx bench/e2e/servers/http-backend-main.ts --root <project root>
 * Prints {"port":N} on its first stdout line.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gitEnv, gitOk } from '../../shared/exec.js';
import { exitWithParent, handleControl, Traffic } from './control.js';

exitWithParent();

const RSS_MARK = '__BENCH_RSS_KB__=';
const TIME = '/usr/bin/time';

const rootIndex = process.argv.indexOf('--root');
const root = rootIndex > 0 ? process.argv[rootIndex + 1] : undefined;
if (root === undefined || !existsSync(root)) {
  console.log(JSON.stringify({ error: 'missing or absent --root' }));
  process.exit(1);
}
const projectRoot: string = root;
const useTime = existsSync(TIME);
const traffic = new Traffic();

const childEnvBase = gitEnv({
  GIT_PROJECT_ROOT: projectRoot,
  GIT_HTTP_EXPORT_ALL: '1',
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'http.receivepack',
  GIT_CONFIG_VALUE_0: 'true',
  GATEWAY_INTERFACE: 'CGI/1.1',
  SERVER_PROTOCOL: 'HTTP/1.1',
  SERVER_SOFTWARE: 'level-git-bench',
  REMOTE_ADDR: '127.0.0.1',
});

/** Finds the end of the CGI header block: index of the body start, or -1. */
function headerEnd(buf: Buffer): { headerLength: number; bodyStart: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { headerLength: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerLength: lf, bodyStart: lf + 2 };
  return null;
}

function serveCgi(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const env: NodeJS.ProcessEnv = {
    ...childEnvBase,
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
  };
  if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding'] !== undefined) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  if (req.headers['git-protocol'] !== undefined) env.HTTP_GIT_PROTOCOL = String(req.headers['git-protocol']);
  if (req.headers['accept'] !== undefined) env.HTTP_ACCEPT = String(req.headers['accept']);

  const [cmd, args] = useTime ? [TIME, ['-f', `${RSS_MARK}%M`, 'git', 'http-backend']] : ['git', ['http-backend']];
  const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  traffic.begin();
  let stderrText = '';
  child.stderr.on('data', (b: Buffer) => (stderrText += b.toString()));
  child.on('close', () => {
    const at = stderrText.lastIndexOf(RSS_MARK);
    if (at >= 0) {
      const kb = Number(
        stderrText
          .slice(at + RSS_MARK.length)
          .trim()
          .split(/\s/)[0],
      );
      if (Number.isFinite(kb)) traffic.stats.childPeakRssKb = Math.max(traffic.stats.childPeakRssKb ?? 0, kb);
      stderrText = stderrText.slice(0, at);
    }
    if (stderrText.trim() !== '' && process.env.BENCH_DEBUG) process.stderr.write(stderrText);
    traffic.end();
  });
  child.on('error', (e) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(e));
  });
  child.stdin.on('error', () => {});
  req.pipe(child.stdin);
  req.on('aborted', () => child.kill());

  let head: Buffer | null = Buffer.alloc(0);
  child.stdout.on('data', (chunk: Buffer) => {
    if (head === null) {
      if (!res.write(chunk)) {
        child.stdout.pause();
        res.once('drain', () => child.stdout.resume());
      }
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = headerEnd(head);
    if (end === null) return;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end.headerLength).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
      else headers[name] = value;
    }
    const body = head.subarray(end.bodyStart);
    head = null;
    res.writeHead(status, headers);
    if (body.length > 0) res.write(body);
  });
  child.stdout.on('end', () => {
    if (head !== null && !res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end();
  });
}

async function createRepo(name: string): Promise<void> {
  const dir = join(projectRoot, `${name}.git`);
  if (existsSync(dir)) throw new Error(`${name} exists`);
  await gitOk(['init', '--quiet', '--bare', '--initial-branch=main', dir]);
}

const server = createServer((req, res) => {
  if (handleControl(req, res, traffic, createRepo)) return;
  traffic.count(req, res);
  serveCgi(req, res);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  console.log(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
