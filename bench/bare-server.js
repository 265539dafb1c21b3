// The baseline server of the HTTP benchmarks (started by them; not a benchmark itself): a bare
// Fastify 5 app with one JSON route of each method and nothing else, the floor any route over
// this stack can reach. Prints `listening <port>` once it listens.
import Fastify from 'fastify';

const app = Fastify();
const view = {
  secretId: '00000000-0000-4000-8000-000000000000',
  version: 1,
  values: { token: 'x'.repeat(32) },
  revealed: true,
  maskedFields: [],
};
app.get('/bare', async () => view);
app.post('/bare', async (request, reply) =>
  reply.code(201).send({ received: Object.keys(request.body ?? {}) }),
);
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${app.server.address().port}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
