#!/usr/bin/env node
import { runUci } from '../dist/cli.js';

process.exitCode = runUci(process.argv.slice(2));
