// Placeholder until issue #8 lands: say so clearly rather than pretend to work.
process.stderr.write('wan-dns: not yet implemented (issue #8)\n');
process.exitCode = 2;
