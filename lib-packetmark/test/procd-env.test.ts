/**
 * procd replaces an instance's LD_PRELOAD with /lib/libsetlbf.so when it captures stdout or stderr (README "Running
 * a program under it"): no init script meshwan ships may hand this library to procd that way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

const initDir = new URL('../../files/etc/init.d/', import.meta.url).pathname;

/** The procd_open_instance … procd_close_instance blocks of a script, as text. */
function instances(script: string): string[] {
  return script
    .split('procd_open_instance')
    .slice(1)
    .map((block) => block.split('procd_close_instance')[0] ?? '');
}

/** True when an instance block hands LD_PRELOAD to procd and has procd capture stdout or stderr. */
function preloadThroughCapture(block: string): boolean {
  const code = block
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  return /procd_set_param\s+(stdout|stderr)\s+1/.test(code) && /procd_(set|append)_param\s+env\b[^\n]*LD_PRELOAD/.test(code);
}

t.test('no instance sets LD_PRELOAD through procd while procd captures its output', (t) => {
  const scripts = readdirSync(initDir);
  t.ok(scripts.length > 0, 'the init scripts are there');
  for (const name of scripts) {
    for (const block of instances(readFileSync(join(initDir, name), 'utf8'))) {
      t.notOk(preloadThroughCapture(block), `${name}: LD_PRELOAD through procd with a captured stream never reaches the process`);
    }
  }
  t.end();
});

t.test('the check sees the combination it forbids', (t) => {
  const bad =
    'procd_open_instance\n procd_set_param env LD_PRELOAD=/usr/lib/libpacketmark.so\n procd_set_param stdout 1\nprocd_close_instance\n';
  const [block = ''] = instances(bad);
  t.ok(preloadThroughCapture(block));
  t.notOk(preloadThroughCapture(block.replace('stdout 1', 'stdout 0')), 'without the capture it is fine');
  t.end();
});
