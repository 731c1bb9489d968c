#!/usr/bin/env node
// Runs the agent's TypeScript sources through tsx, like `vantage`, so the command works
// right after `npm install` with no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/run.ts");
