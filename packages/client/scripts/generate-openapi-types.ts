// `npm run generate -w @coffer/client`: starts the built server, fetches its OpenAPI document
// and rewrites src/generated/openapi.ts from it. Run `npx tsc -b` first so the server is current.
import { writeFileSync } from 'node:fs';
import { cleanupServers, startServer } from '../../server/test/support/server-process.js';
import { fetchOpenApiTypes, generatedTypesPath } from './openapi-types-source.js';

try {
  const server = await startServer();
  const source = await fetchOpenApiTypes(server.api);
  writeFileSync(generatedTypesPath, source);
  process.stdout.write(`wrote ${generatedTypesPath}\n`);
} finally {
  await cleanupServers();
}
