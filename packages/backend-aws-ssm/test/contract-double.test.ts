import { runBackendContract } from '@coffer/backend-contract';
import { backendOnDouble } from './support.js';

// The whole contract against the double, through the official SDK. The double's request quotas
// are off here and so is the write limit: at Parameter Store's 3 PutParameter calls a second the
// listing case alone (1000 refs written and deleted) would take over ten minutes; quotas and
// throttling are covered by the fault tests.
runBackendContract({
  name: 'aws-ssm (local double)',
  listEntries: 1000,
  create: async () => {
    const made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false });
    return { backend: made.backend, cleanup: () => made.close() };
  },
});
