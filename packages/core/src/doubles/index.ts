/**
 * What every test double of a remote store or key source shares, whatever the vendor: the body
 * of its `main.ts` and fault injection. No vendor SDK inside.
 */
export {
  type DoubleMainOptions,
  type DoubleStartOptions,
  doubleMainFor,
  type RunnableDouble,
  runDoubleMain,
  type VendorDoubleMainOptions,
} from './double-main.js';
export { type FaultAction, FaultPlan } from './fault-plan.js';
export { listenLocally, type RunningServer } from './listen.js';
