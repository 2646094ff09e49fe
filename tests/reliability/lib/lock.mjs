// lib/lock.mjs — one timed scenario at a time on this host.
//
// Role: `node --test tests/reliability/` runs the test files in parallel processes; two 20,000 lines/s
// writers, two ferries and two endpoints at once would measure the machine, not ferry. Each scenario
// holds this lock (a file in the temp folder naming the holder's pid) while it runs; a lock whose holder
// is gone is taken over.
//
//   const release = await acquireRunLock()   // waits (polling) while another live process holds it
//   ...
//   release()
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { isRunning } from './procs.mjs'

export const LOCK_PATH = path.join(os.tmpdir(), 'ferry-reliability.lock')

export async function acquireRunLock({ timeoutMs = 60 * 60 * 1000, onWait } = {}) {
  const deadline = Date.now() + timeoutMs
  let told = false
  for (;;) {
    try {
      fs.writeFileSync(LOCK_PATH, String(process.pid), { flag: 'wx' })
      break
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
    }
    const holder = Number(fs.readFileSync(LOCK_PATH, { encoding: 'utf8', flag: 'r' }).trim() || 0)
    if (holder && holder !== process.pid && !isRunning(holder)) {
      // Stale: take it over (rename is atomic; a racing process that also saw it stale loses the rename).
      const mine = `${LOCK_PATH}.${process.pid}`
      fs.writeFileSync(mine, String(process.pid))
      try {
        fs.renameSync(mine, LOCK_PATH)
      } catch {}
      fs.rmSync(mine, { force: true })
      if (fs.readFileSync(LOCK_PATH, 'utf8').trim() === String(process.pid)) break
      continue
    }
    if (Date.now() > deadline) throw new Error(`${LOCK_PATH} held by pid ${holder} for too long`)
    if (!told) {
      onWait?.(holder)
      told = true
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  let released = false
  const release = () => {
    if (released) return
    released = true
    process.removeListener('exit', release)
    try {
      if (fs.readFileSync(LOCK_PATH, 'utf8').trim() === String(process.pid)) fs.rmSync(LOCK_PATH, { force: true })
    } catch {}
  }
  process.on('exit', release)
  return release
}
