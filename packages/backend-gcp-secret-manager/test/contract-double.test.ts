import { runBackendContract } from '@coffer/backend-contract';
import { backendOnDouble } from './support.js';

// The whole contract against the double, through the official SDK in REST mode. The double's
// per-minute quotas are off here and so is the write limit: at Secret Manager's 600 writes a
// minute the listing case alone (1000 refs written and deleted) would take ten minutes; quotas
// and throttling are covered by the fault tests.
runBackendContract({
  name: 'gcp-secret-manager (local double)',
  listEntries: 1000,
  create: async () => {
    const made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false });
    return { backend: made.backend, cleanup: () => made.close() };
  },
});
