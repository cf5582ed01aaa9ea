// A fake Graph API on 127.0.0.1 for the tests, in a process of its own: while the component waits on the
// synchronous `http` import the test process's event loop is blocked, so the server must not share it.
// It answers as tests/src/lib.rs FakeGraph::with_profiles does (C1 and C9 profiles, else Graph's 404), plus
// send-ok.json for a send and a few routes under /test/ for the host's own HTTP tests.
// Prints `{"url": ...}` on its first stdout line.
// Usage: node test/fake-graph.js [FIXTURES_DIR]

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const fixtures = process.argv[2] ?? new URL('../../../../shared/fixtures', import.meta.url).pathname;
const graph = (name) => fs.readFileSync(path.join(fixtures, 'graph', name));
const seen = [];
const NOT_FOUND = '{"error":{"message":"not found","type":"GraphMethodException","code":100}}';

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    const body = Buffer.concat(chunks);
    const answer = (status, text, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(text);
    };
    if (url.pathname === '/__seen') return answer(200, JSON.stringify(seen));
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization ?? null, headers: req.rawHeaders, body: body.toString() });
    if (req.url.startsWith('/v23.0/1098765432100001?')) return answer(200, graph('profile.json'));
    if (req.url.startsWith('/v23.0/1098765432100009?')) return answer(200, graph('profile-no-name.json'));
    if (req.method === 'POST' && url.pathname === '/v23.0/me/messages') return answer(200, graph('send-ok.json'));
    switch (url.pathname) {
      case '/test/echo':
        return answer(200, JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString() }));
      case '/test/redirect':
        return answer(302, '', { location: 'https://graph.facebook.com/elsewhere' });
      case '/test/slow':
        return setTimeout(() => answer(200, '{}'), Number(url.searchParams.get('ms') ?? 5000));
      case '/test/big':
        return answer(200, Buffer.alloc(Number(url.searchParams.get('bytes') ?? 0), 0x61));
      case '/test/status':
        return answer(Number(url.searchParams.get('code')), '{"error":{"message":"x","type":"OAuthException","code":2}}');
      default:
        return answer(404, NOT_FOUND);
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }) + '\n');
});
// Ends with its parent: stdin closes when the test process exits, however it exits.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
