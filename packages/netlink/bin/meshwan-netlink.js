#!/usr/bin/env node
import { runNetlinkCli } from '../dist/cli.js';

process.exitCode = await runNetlinkCli(process.argv.slice(2));
