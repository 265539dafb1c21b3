import { runBackendContract } from '@coffer/backend-contract';
import { backendOnDouble } from './support.js';

// The whole contract against the double over Vault's HTTP API. The double's rate limit quota is
// off here and so is the write limit; throttling is covered by the fault tests.
runBackendContract({
  name: 'vault-kv (local double)',
  listEntries: 1000,
  create: async () => {
    const made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false });
    return { backend: made.backend, cleanup: () => made.close() };
  },
});
