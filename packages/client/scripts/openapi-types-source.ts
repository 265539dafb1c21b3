// What the generator writes and the drift test compares: the formatted types of a running
// server's OpenAPI document.
import { fileURLToPath } from 'node:url';
import { formatTypeScript, type OpenApiDocument, openApiToTypeScript } from './openapi-to-typescript.js';

export const generatedTypesPath = fileURLToPath(new URL('../src/generated/openapi.ts', import.meta.url));

/** Fetches `<api>/openapi.json` and returns the source of src/generated/openapi.ts. */
export async function fetchOpenApiTypes(api: string): Promise<string> {
  const response = await fetch(`${api}/openapi.json`);
  if (!response.ok) throw new Error(`GET ${api}/openapi.json answered ${response.status}`);
  const document = (await response.json()) as OpenApiDocument;
  return formatTypeScript(openApiToTypeScript(document), generatedTypesPath);
}
