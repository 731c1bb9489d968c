#!/usr/bin/env -S node --max-semi-space-size=64
// Runs the TypeScript sources through tsx, so `npm start` works right after `npm install`
// with no build step. --max-semi-space-size: a core holds thousands of runs in flight whose
// objects live for a request's round trip; a larger young generation lets them die there
// instead of being copied and promoted (README, check-throughput). `npm start` passes it too.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
