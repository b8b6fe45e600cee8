#!/usr/bin/env -S node --max-semi-space-size=64
// Runs the TypeScript sources directly: tsx transpiles each module once at load, nothing at run time.
// A young generation of 64 MiB (semi-space; V8's default is at most 16): a call's objects live a fraction of a
// second, and with the default they outlive the frequent scavenges, reach the old generation and come back as
// long collections in the latency tail. `npm start` passes the same flag.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
