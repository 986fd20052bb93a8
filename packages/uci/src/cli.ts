// Temporary until the uci command lands in the next commit: say so rather than pretend to work.
process.stderr.write('uci: command not yet implemented (issue #4)\n');
process.exitCode = 2;
