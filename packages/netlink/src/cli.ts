// Placeholder until issue #6 lands: say so clearly rather than pretend to work.
process.stderr.write('meshwan-netlink: not yet implemented (issue #6)\n');
process.exitCode = 2;
