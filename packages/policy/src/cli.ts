// Placeholder until issue #9 lands: say so clearly rather than pretend to work.
process.stderr.write('meshwan: not yet implemented (issue #9)\n');
process.exitCode = 2;
