#!/usr/bin/env node
// Thin launcher: the command line lives in the compiled services/cli/main.js (`npm run build`).
import '../dist/services/cli/main.js';
