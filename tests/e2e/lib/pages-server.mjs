// Plain-HTTP static servers for tests/e2e/pages/ on 127.0.0.1. 127.0.0.1 is a secure context,
// so pages served here get the extension's content script like any https site would.
// Two servers on two ports give tests two origins (cross-origin iframes, per-origin grants).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'pages');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Starts one static server. Returns `{port, origin, url(path), requests, close()}`.
 * `requests` lists the paths served, so a test can tell a page was really loaded.
 */
export async function startPagesServer({ root = PAGES_DIR } = {}) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://pages.invalid');
    requests.push({ method: req.method, path: url.pathname, at: Date.now() });
    let path = decodeURIComponent(url.pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': String(info.size),
        'cache-control': 'no-store',
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.address().port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    requests,
    url: (path = '/') => new URL(path, origin).href,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Starts two servers on two ports: two distinct origins. Returns `{a, b, close()}`. */
export async function startPagesServers(options) {
  const a = await startPagesServer(options);
  const b = await startPagesServer(options);
  return {
    a,
    b,
    async close() {
      await Promise.all([a.close(), b.close()]);
    },
  };
}
