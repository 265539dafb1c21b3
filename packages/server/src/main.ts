#!/usr/bin/env node
// `npm start`: the standalone server (see standalone.ts).
import { runStandaloneServer } from './standalone.js';

await runStandaloneServer();
