// The test application each real FastCGI server of servers.go runs: one app per language, all
// answering the same actions, so that a test asks every server the same questions.

package fcgitest

// The actions every app answers, chosen by the "a" query parameter (QUERY_STRING):
//
//	a=echo (default)  text/plain: one NAME=VALUE line per CGI param the app received whose name
//	                  starts with a CGI prefix (GATEWAY_INTERFACE SERVER_ REQUEST_ QUERY_STRING
//	                  SCRIPT_ PATH_INFO PATH_TRANSLATED DOCUMENT_ REMOTE_ CONTENT_ HTTP_ HTTPS
//	                  REDIRECT_STATUS FCGI_ AUTH_ X_: the rest of a process's environment is not the
//	                  request's), sorted by name in byte order (REQUEST_TIME* left out: the
//	                  clock), then "stdin LEN MD5" of the body (CONTENT_LENGTH bytes of STDIN)
//	a=bytes&n=N       application/octet-stream body of N bytes 'a', with Content-Length
//	a=stderr          "app: to stderr\n" on stderr, body "ok\n"
//	a=onlyerr         "app: only stderr\n" on stderr and no stdout at all (the shell CGI then
//	                  exits 1; the WSGI app raises; node-fastcgi cannot send nothing and answers 500
//	                  with an empty body; php-cgi answers 500)
//	a=status&code=N   Status: N Teapot, body "status N\n"
//	a=latin1          header "X-Name: caf\xe9": a byte that is not UTF-8
//	a=bighdr&n=N      header X-Big of N bytes 'b', body "bighdr N\n"
//	a=body            body "LEN MD5\n" of the request body
//	a=sleep&s=S       sleeps S seconds (fractions allowed), then body "slept S\n"
//
// node-fastcgi's app also implements the Authorizer role (200 with "Variable-AUTH_USER: alice"
// when HTTP_AUTHORIZATION is "Bearer ok", else 403) and the Filter role (body: "stdin LEN\n",
// the FCGI_DATA_LENGTH and FCGI_DATA_LAST_MOD params, then the DATA stream upper-cased), and
// a=hang: it never answers. Its a=body&tell=1 also writes "app: read N\n" to STDERR as each
// chunk of the body reaches the app.

// appCGI is the shell CGI script fcgiwrap runs.
const appCGI = `#!/bin/sh
# fcgitest's CGI app; actions in fcgitest/serverapps.go.
q() { printf '%s' "$QUERY_STRING" | tr '&' '\n' | sed -n "s/^$1=//p" | head -n 1; }
a=$(q a); [ -n "$a" ] || a=echo
case "$a" in
echo)
  printf 'Content-Type: text/plain\r\n\r\n'
  env | grep -E '^(GATEWAY_INTERFACE|SERVER_|REQUEST_|QUERY_STRING|SCRIPT_|PATH_INFO|PATH_TRANSLATED|DOCUMENT_|REMOTE_|CONTENT_|HTTP_|HTTPS|REDIRECT_STATUS|FCGI_|AUTH_|X_)' | grep -v '^REQUEST_TIME' | LC_ALL=C sort
  n=${CONTENT_LENGTH:-0}
  printf 'stdin %s %s\n' "$n" "$(head -c "$n" | md5sum | cut -d' ' -f1)" ;;
bytes)
  n=$(q n); printf 'Content-Type: application/octet-stream\r\nContent-Length: %s\r\n\r\n' "$n"
  head -c "$n" /dev/zero | tr '\0' a ;;
stderr)
  echo "app: to stderr" >&2; printf 'Content-Type: text/plain\r\n\r\nok\n' ;;
onlyerr)
  echo "app: only stderr" >&2; exit 1 ;;
status)
  c=$(q code); printf 'Status: %s Teapot\r\nContent-Type: text/plain\r\n\r\nstatus %s\n' "$c" "$c" ;;
latin1)
  printf 'Content-Type: text/plain\r\nX-Name: caf\351\r\n\r\nlatin1\n' ;;
bighdr)
  n=$(q n); printf 'Content-Type: text/plain\r\nX-Big: '; head -c "$n" /dev/zero | tr '\0' b
  printf '\r\n\r\nbighdr %s\n' "$n" ;;
body)
  n=${CONTENT_LENGTH:-0}
  printf 'Content-Type: text/plain\r\n\r\n%s %s\n' "$n" "$(head -c "$n" | md5sum | cut -d' ' -f1)" ;;
sleep)
  s=$(q s); sleep "$s"; printf 'Content-Type: text/plain\r\n\r\nslept %s\n' "$s" ;;
*)
  printf 'Status: 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nunknown action %s\n' "$a" ;;
esac
`

// appPHP is the script php-cgi runs.
const appPHP = `<?php
// fcgitest's PHP app; actions in fcgitest/serverapps.go.
$a = $_GET['a'] ?? 'echo';
switch ($a) {
case 'echo':
    header('Content-Type: text/plain');
    $s = $_SERVER;
    ksort($s, SORT_STRING);
    foreach ($s as $k => $v) {
        if (is_string($v) && preg_match('/^(GATEWAY_INTERFACE|SERVER_|REQUEST_|QUERY_STRING|SCRIPT_|PATH_INFO|PATH_TRANSLATED|DOCUMENT_|REMOTE_|CONTENT_|HTTP_|HTTPS|REDIRECT_STATUS|FCGI_|AUTH_|X_)/', $k) && strpos($k, 'REQUEST_TIME') !== 0) {
            echo "$k=$v\n";
        }
    }
    $b = file_get_contents('php://input');
    echo 'stdin ' . strlen($b) . ' ' . md5($b) . "\n";
    break;
case 'bytes':
    $n = (int) ($_GET['n'] ?? 0);
    header('Content-Type: application/octet-stream');
    header("Content-Length: $n");
    echo str_repeat('a', $n);
    break;
case 'stderr':
    error_log('app: to stderr');
    header('Content-Type: text/plain');
    echo "ok\n";
    break;
case 'onlyerr':
    error_log('app: only stderr');
    http_response_code(500);
    exit(1);
case 'status':
    header("Status: {$_GET['code']} Teapot");
    header('Content-Type: text/plain');
    echo "status {$_GET['code']}\n";
    break;
case 'latin1':
    header("X-Name: caf\xe9");
    header('Content-Type: text/plain');
    echo "latin1\n";
    break;
case 'bighdr':
    $n = (int) $_GET['n'];
    header('X-Big: ' . str_repeat('b', $n));
    header('Content-Type: text/plain');
    echo "bighdr $n\n";
    break;
case 'body':
    $b = file_get_contents('php://input');
    header('Content-Type: text/plain');
    echo strlen($b) . ' ' . md5($b) . "\n";
    break;
case 'sleep':
    usleep((int) ((float) $_GET['s'] * 1000000));
    header('Content-Type: text/plain');
    echo "slept {$_GET['s']}\n";
    break;
default:
    http_response_code(400);
    echo "unknown action $a\n";
}
`

// appPy is the WSGI application uwsgi runs.
const appPy = `# fcgitest's WSGI app; actions in fcgitest/serverapps.go.
import hashlib, re, time
from urllib.parse import parse_qs

CGI = re.compile(r'^(GATEWAY_INTERFACE|SERVER_|REQUEST_|QUERY_STRING|SCRIPT_|PATH_INFO|PATH_TRANSLATED|DOCUMENT_|REMOTE_|CONTENT_|HTTP_|HTTPS|REDIRECT_STATUS|FCGI_|AUTH_|X_)')

def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get('QUERY_STRING', '')).items()}
    a = q.get('a', 'echo')
    def text(body, status='200 OK', extra=()):
        start_response(status, [('Content-Type', 'text/plain')] + list(extra))
        return [body.encode('latin-1')]
    def readbody():
        n = int(environ.get('CONTENT_LENGTH') or 0)
        data = environ['wsgi.input'].read(n) if n else b''
        return '%d %s' % (len(data), hashlib.md5(data).hexdigest())
    if a == 'echo':
        names = sorted(k for k, v in environ.items() if isinstance(v, str) and CGI.match(k) and not k.startswith('REQUEST_TIME'))
        return text(''.join('%s=%s\n' % (k, environ[k]) for k in names) + 'stdin ' + readbody() + '\n')
    if a == 'bytes':
        n = int(q.get('n', '0'))
        start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(n))])
        return [b'a' * n]
    if a == 'stderr':
        environ['wsgi.errors'].write('app: to stderr\n')
        return text('ok\n')
    if a == 'onlyerr':
        environ['wsgi.errors'].write('app: only stderr\n')
        raise RuntimeError('fcgitest app raised on purpose')
    if a == 'status':
        c = q.get('code', '418')
        return text('status %s\n' % c, status='%s Teapot' % c)
    if a == 'latin1':
        return text('latin1\n', extra=[('X-Name', 'caf\xe9')])
    if a == 'bighdr':
        n = int(q.get('n', '0'))
        return text('bighdr %d\n' % n, extra=[('X-Big', 'b' * n)])
    if a == 'body':
        return text(readbody() + '\n')
    if a == 'sleep':
        time.sleep(float(q.get('s', '1')))
        return text('slept %s\n' % q.get('s', '1'))
    return text('unknown action %s\n' % a, status='400 Bad Request')
`

// appPl is the Perl FCGI loop spawn-fcgi runs.
const appPl = `#!/usr/bin/perl
# fcgitest's Perl FCGI app; actions in fcgitest/serverapps.go.
use strict; use warnings; use FCGI; use Digest::MD5 qw(md5_hex); use Time::HiRes qw(sleep);
my $req = FCGI::Request();
while ($req->Accept() >= 0) {
    my %q = map { my ($k, $v) = split /=/, $_, 2; ($k, $v // '') } split /&/, ($ENV{QUERY_STRING} // '');
    my $a = $q{a} // 'echo';
    my $body = sub {
        my $n = $ENV{CONTENT_LENGTH} || 0; my $d = ''; my $got = 0;
        while ($got < $n) { my $r = read(STDIN, $d, $n - $got, $got); last unless $r; $got += $r }
        return length($d) . ' ' . md5_hex($d);
    };
    if ($a eq 'echo') {
        print "Content-Type: text/plain\r\n\r\n";
        for my $k (sort grep { /^(GATEWAY_INTERFACE|SERVER_|REQUEST_|QUERY_STRING|SCRIPT_|PATH_INFO|PATH_TRANSLATED|DOCUMENT_|REMOTE_|CONTENT_|HTTP_|HTTPS|REDIRECT_STATUS|FCGI_|AUTH_|X_)/ && !/^REQUEST_TIME/ } keys %ENV) {
            print "$k=$ENV{$k}\n";
        }
        print 'stdin ', $body->(), "\n";
    } elsif ($a eq 'bytes') {
        my $n = $q{n} || 0;
        print "Content-Type: application/octet-stream\r\nContent-Length: $n\r\n\r\n", 'a' x $n;
    } elsif ($a eq 'stderr') {
        print STDERR "app: to stderr\n"; print "Content-Type: text/plain\r\n\r\nok\n";
    } elsif ($a eq 'onlyerr') {
        print STDERR "app: only stderr\n";
    } elsif ($a eq 'status') {
        print "Status: $q{code} Teapot\r\nContent-Type: text/plain\r\n\r\nstatus $q{code}\n";
    } elsif ($a eq 'latin1') {
        print "Content-Type: text/plain\r\nX-Name: caf\xe9\r\n\r\nlatin1\n";
    } elsif ($a eq 'bighdr') {
        my $n = $q{n} || 0; print "Content-Type: text/plain\r\nX-Big: ", 'b' x $n, "\r\n\r\nbighdr $n\n";
    } elsif ($a eq 'body') {
        print "Content-Type: text/plain\r\n\r\n", $body->(), "\n";
    } elsif ($a eq 'sleep') {
        sleep($q{s} // 1); print "Content-Type: text/plain\r\n\r\nslept $q{s}\n";
    } else {
        print "Status: 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nunknown action $a\n";
    }
}
`

// appJS is the node-fastcgi application.
const appJS = `// fcgitest's node-fastcgi app; actions in fcgitest/serverapps.go.
'use strict';
const fcgi = require('node-fastcgi');
const crypto = require('crypto');
// node-fastcgi 1.3.3's input streams (the request body; a filter's DATA) can
// stall for good: _read (lib/streams.js:53-55) only refreshes _canPush while
// it has buffered records to push, so when push() returned false (a STDIN
// record over the stream's highWaterMark, 16 KiB in node 20) and the reader
// then drains the stream before the next record arrives, _canPush stays false,
// _data (lib/streams.js:45-51) queues every later record, the end included, in
// _buffer, and node never calls _read again (its read is still pending). Seen
// with fcgiscope's 32 KiB records as with nginx's: the app got 32768 of 60000
// bytes, _buffer [27232, null], reading true, and never answered. Same logic,
// except that a _read with nothing queued lets the next record be pushed.
for (const S of Object.values(require('node-fastcgi/lib/streams.js')).filter(S => S.prototype._read)) {
  S.prototype._read = function () {
    while (this._buffer.length) { if (!(this._canPush = this.push(this._buffer.shift()))) return; }
    this._canPush = true;
  };
}
const CGI = /^(GATEWAY_INTERFACE|SERVER_|REQUEST_|QUERY_STRING|SCRIPT_|PATH_INFO|PATH_TRANSLATED|DOCUMENT_|REMOTE_|CONTENT_|HTTP_|HTTPS|REDIRECT_STATUS|FCGI_|AUTH_|X_)/;
const where = process.argv[2];
function query(req) { return Object.fromEntries(new URLSearchParams(req.cgiParams.QUERY_STRING || '')); }
function readAll(stream, cb) { const parts = []; stream.on('data', d => parts.push(d)); stream.on('end', () => cb(Buffer.concat(parts))); }
function digest(b) { return b.length + ' ' + crypto.createHash('md5').update(b).digest('hex'); }
const server = fcgi.createServer(function responder(req, res) {
  const q = query(req), a = q.a || 'echo';
  const text = (code, body, extra) => { res.writeHead(code, Object.assign({'Content-Type': 'text/plain'}, extra || {})); res.end(body); };
  switch (a) {
  case 'echo': readAll(req, b => {
      const names = Object.keys(req.cgiParams).filter(k => CGI.test(k) && !k.startsWith('REQUEST_TIME')).sort();
      text(200, names.map(k => k + '=' + req.cgiParams[k] + '\n').join('') + 'stdin ' + digest(b) + '\n');
    });
    return;
  case 'bytes': { const n = +q.n || 0; res.writeHead(200, {'Content-Type': 'application/octet-stream', 'Content-Length': n}); res.end(Buffer.alloc(n, 'a')); return; }
  case 'stderr': res.stderr.write('app: to stderr\n'); text(200, 'ok\n'); return;
  case 'onlyerr': res.stderr.write('app: only stderr\n'); res.statusCode = 500; res.end(); return;
  case 'status': res.writeHead(+q.code, 'Teapot', {'Content-Type': 'text/plain'}); res.end('status ' + q.code + '\n'); return;
  case 'latin1': res.stdout.end(Buffer.from('Status: 200 OK\r\nContent-Type: text/plain\r\nX-Name: caf\xe9\r\n\r\nlatin1\n', 'latin1')); return;
  case 'bighdr': text(200, 'bighdr ' + q.n + '\n', {'X-Big': 'b'.repeat(+q.n || 0)}); return;
  case 'body':
    if (q.tell) req.on('data', d => res.stderr.write('app: read ' + d.length + '\n'));
    readAll(req, b => text(200, digest(b) + '\n'));
    return;
  case 'sleep': setTimeout(() => text(200, 'slept ' + q.s + '\n'), (+q.s || 1) * 1000); return;
  case 'hang': return;
  default: text(400, 'unknown action ' + a + '\n');
  }
}, function authorizer(req, res) {
  if (req.cgiParams.HTTP_AUTHORIZATION === 'Bearer ok') { res.setVariable('AUTH_USER', 'alice'); res.allow(); } else { res.deny(); }
}, function filter(req, res) {
  // Both streams read from the start: DATA may end before STDIN's end is seen.
  let stdin = null, data = null;
  const done = () => {
    if (stdin === null || data === null) return;
    res.writeHead(200, {'Content-Type': 'text/plain'});
    res.end('stdin ' + stdin.length + '\nFCGI_DATA_LENGTH=' + req.cgiParams.FCGI_DATA_LENGTH + ' FCGI_DATA_LAST_MOD=' + req.cgiParams.FCGI_DATA_LAST_MOD + '\n' + data.toString('latin1').toUpperCase());
  };
  readAll(req, b => { stdin = b; done(); });
  readAll(req.data, b => { data = b; done(); });
});
server.on('protocolError', e => process.stderr.write('protocolError: ' + e.message + '\n'));
server.listen(/^\d+$/.test(where) ? {port: +where, host: '127.0.0.1'} : where, () => process.stderr.write('fcgitest app listening on ' + where + '\n'));
`
