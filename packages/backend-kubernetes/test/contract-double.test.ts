import { runBackendContract } from '@coffer/backend-contract';
import { backendOnDouble } from './support.js';

// The whole contract against the double (HTTPS with its own CA, bearer tokens), through
// client-node's CoreV1Api. The double's throttling (API Priority and Fairness) is off here and
// so is the write limit; throttling is covered by the fault tests.
runBackendContract({
  name: 'kubernetes (local double)',
  listEntries: 1000,
  create: async () => {
    const made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false });
    return { backend: made.backend, cleanup: () => made.close() };
  },
});
