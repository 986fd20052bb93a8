#!/usr/bin/env node
import '../dist/reconfigure-cli.js';
