import http from 'node:http';

// Probes and port match the platform's golden-path manifests:
// liveness /healthz, readiness /readyz, container port 8080.
const port = Number(process.env.PORT ?? 8080);
let ready = false;

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200).end('ok');
    return;
  }
  if (req.url === '/readyz') {
    res.writeHead(ready ? 200 : 503).end(ready ? 'ready' : 'starting');
    return;
  }
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ service: '${{ values.name }}' }));
});

server.listen(port, () => {
  ready = true;
});

// The pod is stopped with SIGTERM: finish open requests, then exit.
process.on('SIGTERM', () => {
  ready = false;
  server.close(() => process.exit(0));
});
