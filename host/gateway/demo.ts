/** A tiny local echo upstream the gateway can start itself (settings.demo_upstream), for the bundled demo. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export function startDemoUpstream(host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://demo');
      const body = Buffer.concat(chunks).toString('utf8');
      const out = JSON.stringify(
        {
          demo: 'datakit-gateway echo upstream',
          method: req.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body: body || undefined,
        },
        null,
        2,
      );
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export function addressOf(server: http.Server): AddressInfo {
  return server.address() as AddressInfo;
}
