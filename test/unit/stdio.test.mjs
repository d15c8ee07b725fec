// The CLI writes its output with write(2) (src/cli/stdio.ts), not through process.stdout: a pipe's
// stream loads node:net and the stream modules at every command's start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const STDIO = fileURLToPath(new URL('../../dist/cli/stdio.js', import.meta.url));
const CTNET = fileURLToPath(new URL('../../bin/ctnet', import.meta.url));
const MIB = 1 << 20;

// A program writing 1 MiB to its standard output as `how` says: through stdio.ts, or a bare writeSync.
const writer = (how) => `import(${JSON.stringify(STDIO)}).then((m) => {
  const text = 'x'.repeat(${MIB});
  if (${JSON.stringify(how)} === 'stdio') m.writeOut(text); else require('node:fs').writeSync(1, text);
  require('node:fs').writeSync(2, 'done');
});`;

/**
 * Runs the writer with its standard output on a pipe made by Perl: `nonblocking` sets O_NONBLOCK on
 * the write end (as a terminal or pipe shared with a Node parent may have it), and the reader waits
 * 0.3 s before it reads; `closed` closes the read end before the writer starts. Prints the bytes read.
 */
function throughPipe(how, mode) {
  const perl = `use Fcntl; pipe(my $r, my $w) or die;
    if ('${mode}' eq 'nonblocking') { my $f = fcntl($w, F_GETFL, 0); fcntl($w, F_SETFL, $f | O_NONBLOCK) or die; }
    close($r) if '${mode}' eq 'closed';
    my $pid = fork() // die;
    if (!$pid) { open(STDOUT, '>&', $w) or die; exec { $ARGV[0] } @ARGV or die; }
    close($w);
    my $n = 0;
    if ('${mode}' ne 'closed') { select(undef, undef, undef, 0.3); while (my $got = sysread($r, my $buf, 65536)) { $n += $got; } }
    waitpid($pid, 0); print "$n " . ($? >> 8);`;
  const r = spawnSync('perl', ['-e', perl, process.execPath, '-e', writer(how)], { encoding: 'utf8' });
  const [bytes, code] = r.stdout.trim().split(' ').map(Number);
  return { bytes, code, stderr: r.stderr };
}

test('a non-blocking pipe whose reader is slow gets the whole output (control: a bare writeSync loses most of it)', () => {
  const ok = throughPipe('stdio', 'nonblocking');
  assert.deepEqual({ bytes: ok.bytes, code: ok.code }, { bytes: MIB, code: 0 }, ok.stderr);
  // One write(2) into a full non-blocking pipe takes what fits (64 KiB) and says so; the rest is lost.
  const bare = throughPipe('bare', 'nonblocking');
  assert.ok(bare.bytes < MIB, `the control wrote all ${bare.bytes} bytes: the pipe is not non-blocking, so the test proves nothing`);
});

test('a reader that went away (| head) ends the output quietly (control: a bare writeSync throws EPIPE)', () => {
  const ok = throughPipe('stdio', 'closed');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stderr, 'done');
  const bare = throughPipe('bare', 'closed');
  assert.notEqual(bare.code, 0);
  assert.match(bare.stderr, /EPIPE/);
});

test('printing the version or a usage error loads neither node:net, node:child_process nor the streams', () => {
  const watch = "process.on('exit', () => require('node:fs').writeSync(2, '\\nLOADED ' + process.moduleLoadList.filter((m) => /^NativeModule (net|child_process|stream|tty)$/.test(m)).join(',')));";
  for (const args of [['--version'], ['ps', '--no-such-option']]) {
    const r = spawnSync(process.execPath, ['-e', `${watch} process.argv.splice(1, 0, ${JSON.stringify(CTNET)}); require(${JSON.stringify(CTNET)});`, '--', ...args], { encoding: 'utf8' });
    assert.match(r.stderr, /\nLOADED $/, `ctnet ${args.join(' ')}: ${r.stderr}`);
    if (args[0] === '--version') assert.equal(r.stdout, '0.1.0\n');
    else assert.match(r.stderr, /^ctnet: error: unknown option '--no-such-option'/);
  }
});
