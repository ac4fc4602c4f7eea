#!/usr/bin/env node
// Runs the compiled CLI (dist/ is built by `npm run build`, which `npm ci` runs via `prepare`).
import '../dist/node/bin.js';
