#!/usr/bin/env node
import { runSiteCli } from '../dist/cli.js';

process.exitCode = runSiteCli(process.argv.slice(2));
