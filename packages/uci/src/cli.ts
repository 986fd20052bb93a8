// Placeholder until issue #4 lands: say so clearly rather than pretend to work.
process.stderr.write('uci: not yet implemented (issue #4)\n');
process.exitCode = 2;
