#!/usr/bin/env node
import '../dist/wan-cli.js';
