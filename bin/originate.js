#!/usr/bin/env node
// Runs the TypeScript sources directly: tsx transpiles each module once at load, nothing at run time.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
