#!/usr/bin/env node
// kinesalite-server.cjs — runs the kinesalite Kinesis emulator in-process, bound to 127.0.0.1 only.
//
// Role: the Kinesis peer for ferry's integration tests. kinesalite's own CLI listens on every
// interface, so the tests start this script instead (lib/kinesalite.mjs does that).
//
// Usage: node kinesalite-server.cjs [port] [--exit-on-stdin-close]
//   port                   TCP port on 127.0.0.1; 0 or absent = let the OS pick a free one.
//   --exit-on-stdin-close  exit when stdin reaches EOF. lib/kinesalite.mjs passes this and keeps
//                          a pipe open to our stdin, so the emulator dies with its parent even if
//                          the parent is SIGKILLed (when no 'exit' handler of the parent can run).
//
// Once listening it prints exactly one line to stdout: {"port":N}. Nothing else goes to stdout.
// It exits with status 0 on SIGTERM or SIGINT. Diagnostics go to stderr.
'use strict'

const kinesalite = require('kinesalite')

const args = process.argv.slice(2)
const exitOnStdinClose = args.includes('--exit-on-stdin-close')
const positional = args.filter((a) => !a.startsWith('--'))
const port = positional.length ? Number(positional[0]) : 0
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`kinesalite-server: bad port ${JSON.stringify(positional[0])}\n`)
  process.exit(2)
}

// kinesalite's handler does `req.on('error', err => { throw err })`, so a client that drops
// the connection in the middle of sending a request body (e.g. ferry killed mid-PutRecords in a
// crash test) raises an uncaught ECONNRESET "aborted" error that would take the whole emulator
// down. Log that one case and keep serving; anything else is a real failure.
process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    process.stderr.write(`kinesalite-server: ignoring aborted client request: ${err.message}\n`)
    return
  }
  process.stderr.write(`kinesalite-server: fatal: ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})

const server = kinesalite({
  createStreamMs: 50, // default 500: streams are CREATING this long before ACTIVE
  deleteStreamMs: 50,
  updateStreamMs: 50,
  shardLimit: 10000, // default 10 open shards per account; tests may create many streams
})

server.on('error', (err) => {
  process.stderr.write(`kinesalite-server: ${err.stack || err}\n`)
  process.exit(1)
})

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n')
})

function shutdown() {
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

if (exitOnStdinClose) {
  process.stdin.on('data', () => {}) // we expect no input; just drain it
  process.stdin.on('end', shutdown)
  process.stdin.on('error', shutdown)
}
