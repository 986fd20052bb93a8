#!/usr/bin/env node
import { runUplinksCli } from '../dist/cli.js';

process.exitCode = await runUplinksCli(process.argv.slice(2));
