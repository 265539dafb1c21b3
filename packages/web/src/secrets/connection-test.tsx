import { useState } from 'react';
import { client, isCofferApiError } from '../api/client';
import type { ConnectionTestResult } from '../api/types';
import { useAction } from '../app/use-resource';
import { ErrorMessage } from '../ui/feedback';

/**
 * "Test connection": the server uses the secret on the caller's behalf (values never come to the
 * page) and says whether the credentials work, and if not, why.
 */
export function ConnectionTest({ secretId, kindName }: { secretId: string; kindName: string }) {
  const test = useAction(() => client.secrets.test(secretId));
  const [result, setResult] = useState<ConnectionTestResult | undefined>();
  const run = async () => {
    setResult(undefined);
    const outcome = await test.run();
    if (outcome.ok) setResult(outcome.value);
  };
  // The server names kinds without a tester with `unsupported`: say so instead of an error.
  if (isCofferApiError(test.cause, 'unsupported')) {
    return (
      <section className="card" aria-labelledby="test-title">
        <h2 id="test-title">Connection test</h2>
        <p className="muted">Secrets of the kind {kindName} have no connection test.</p>
      </section>
    );
  }
  return (
    <section className="card" aria-labelledby="test-title">
      <div className="card-header">
        <h2 id="test-title">Connection test</h2>
        <button type="button" className="button" disabled={test.busy} onClick={run}>
          {test.busy ? 'Testing…' : 'Test connection'}
        </button>
      </div>
      <p className="muted">Connects with these credentials from the server; nothing is sent or changed.</p>
      <ErrorMessage>{test.error}</ErrorMessage>
      <div role="status" className="test-result-region">
        {result === undefined ? null : result.ok ? (
          <p className="test-result test-ok">
            <strong>Connection works.</strong> {describeDetails(result)} ({result.durationMs} ms)
          </p>
        ) : (
          <p className="test-result test-failed">
            <strong>Connection failed:</strong> {result.reason ?? 'no reason given'} ({result.durationMs} ms)
          </p>
        )}
      </div>
    </section>
  );
}

function describeDetails(result: ConnectionTestResult): string {
  const details = Object.entries(result.details ?? {});
  return details.map(([k, v]) => `${k}: ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : v}`).join(', ');
}
