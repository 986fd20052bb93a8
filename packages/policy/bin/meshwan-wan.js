#!/usr/bin/env node
import '../dist/wan-main.js';
