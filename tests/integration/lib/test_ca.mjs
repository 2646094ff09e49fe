// lib/test_ca.mjs — a throwaway certificate authority, made at test time with the openssl CLI.
//
// Role: TLS peers for the tests (HTTPS endpoints, TLS through a proxy) whose trust ferry gets only from
// aws.ca_file: the CA is in no system store, so without ca_file every handshake must fail.
//
//   const ca = makeTestCa(dir)                 // ca.caFile: the CA certificate (PEM)
//   const { key, cert } = ca.issue('server', { dns: ['localhost'], ip: ['127.0.0.1'] })
//     key, cert   PEM text for https.createServer; keyFile, certFile their paths in dir
// Keys are P-256 (fast to make); certificates are valid for two days.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

function openssl(args, cwd) {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr?.toString() || err.message}`)
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

export function makeTestCa(dir) {
  fs.mkdirSync(dir, { recursive: true })
  const caKey = path.join(dir, 'ca.key')
  const caFile = path.join(dir, 'ca.pem')
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=ferry test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  )
  return {
    caFile,
    // A server certificate for the given names (CN is the first of them), signed by this CA.
    issue(name, { dns = [], ip = [] } = {}) {
      const keyFile = path.join(dir, `${name}.key`)
      const csrFile = path.join(dir, `${name}.csr`)
      const certFile = path.join(dir, `${name}.pem`)
      const extFile = path.join(dir, `${name}.ext`)
      const sans = [...dns.map((d) => `DNS:${d}`), ...ip.map((i) => `IP:${i}`)]
      fs.writeFileSync(
        extFile,
        [`subjectAltName=${sans.join(',')}`, 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth'].join('\n') + '\n',
      )
      openssl(['req', '-new', ...EC_KEY, '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${dns[0] || ip[0]}`], dir)
      openssl(['x509', '-req', '-in', csrFile, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile,
        '-days', '2', '-extfile', extFile], dir)
      return { keyFile, certFile, key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }
    },
  }
}
