#!/usr/bin/env node
import { runFirewallCli } from '../dist/cli.js';

process.exitCode = await runFirewallCli(process.argv.slice(2));
