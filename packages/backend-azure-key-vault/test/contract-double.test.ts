import { runBackendContract } from '@coffer/backend-contract';
import { backendOnDouble } from './support.js';

// The whole contract against the double, through the official SDK (HTTPS, the Key Vault
// bearer challenge, tokens from the double's Entra ID endpoint). The double's throttling is
// off here and so is the write limit: at Key Vault's 300 sets per 10 seconds the listing case
// alone (1000 refs written and deleted) would take over a minute; throttling is covered by the
// fault tests.
runBackendContract({
  name: 'azure-key-vault (local double)',
  listEntries: 1000,
  create: async () => {
    const made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false });
    return { backend: made.backend, cleanup: () => made.close() };
  },
});
