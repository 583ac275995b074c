'use strict';
// `memory monitor` as a person sees it: run in a real terminal (tmux, its own server
// socket), read the screen with capture-pane, check the sparklines and status are drawn,
// press Ctrl-C and check the terminal is given back (alternate screen left, cursor shown,
// shell prompt back, exit code 0).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ROOT, waitFor } = require('./support/child');

const TMUX = ['/usr/bin/tmux', '/usr/local/bin/tmux'].find((p) => fs.existsSync(p));
const SOCKET = `memwarden-test-${process.pid}`;
const tmux = (...args) => execFileSync(TMUX, ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', 'mon');
const flag = (name) => tmux('display-message', '-p', '-t', 'mon', `#{${name}}`).trim();

test('memory monitor in a terminal: sparklines and status drawn, Ctrl-C restores the terminal', { skip: !TMUX && 'tmux is not installed (.ci/run installs it)' }, async (t) => {
  const shell = [
    'env',
    '-i',
    `PATH=${path.dirname(process.execPath)}:/usr/bin:/bin`,
    `HOME=${process.env.HOME || '/tmp'}`,
    'TERM=xterm-256color',
    'PS1=PROMPT$ ',
    'bash',
    '--norc',
    '--noprofile',
  ].join(' ');
  tmux('new-session', '-d', '-s', 'mon', '-x', '110', '-y', '36', '-c', ROOT, shell);
  t.after(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  });
  await waitFor(() => screen().includes('PROMPT$'), { timeoutMs: 10_000, everyMs: 100, what: 'the shell prompt' });
  tmux('send-keys', '-t', 'mon', `${process.execPath} bin/memory.js monitor --interval-ms 250; echo EXIT=$?`, 'Enter');

  // Drawn: header, status, both sparklines with several points.
  const drawn = await waitFor(
    () => {
      const s = screen();
      const spark = (label) => (new RegExp(`^${label}\\s+([▁▂▃▄▅▆▇█]+)\\s*$`, 'm').exec(s) || [])[1] || '';
      return spark('heap').length >= 4 && spark('rss').length >= 4 ? s : null;
    },
    { timeoutMs: 20_000, everyMs: 200, what: 'the sparklines' },
  );
  assert.match(drawn, /^memwarden monitor in-process, pid \d+ {2}\d\d:\d\d:\d\d {2}Ctrl-C to quit/m);
  assert.match(drawn, /^status {3}HEALTHY {2}pressure [\d.]+% of the \w+ limit {2}\[[#.|]+\]/m);
  assert.match(drawn, /^ +now [\d.]+ [KMG]?B {2}range /m);
  assert.match(drawn, /^GC {7}\d+ collections/m);
  assert.equal(flag('alternate_on'), '1', 'drawn on the alternate screen');
  assert.equal(flag('cursor_flag'), '0', 'cursor hidden while drawing');
  assert.ok(!drawn.includes('PROMPT$'), 'the alternate screen hides the shell');

  tmux('send-keys', '-t', 'mon', 'C-c');
  const after = await waitFor(() => (/EXIT=\d+/.test(screen()) ? screen() : null), { timeoutMs: 10_000, everyMs: 100, what: 'the command to end' });
  assert.match(after, /EXIT=0/);
  assert.match(after, /memory monitor: \d+ update\(s\), last status healthy, stopped\nEXIT=0\nPROMPT\$/);
  assert.equal(flag('alternate_on'), '0', 'alternate screen left');
  assert.equal(flag('cursor_flag'), '1', 'cursor shown again');
  assert.ok(!/[▁▂▃▄▅▆▇█]{4}/.test(after), 'the live view is gone from the normal screen');
});
