// A throwaway certificate authority made with the `openssl` command in a
// temporary folder (the JavaScript twin of tls_pki.py): the CA and server
// certificates it signs for 127.0.0.1 and localhost, with chosen serials.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 });
}

export class Pki {
  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'parley-pki-'));
    this.caCert = path.join(this.dir, 'ca.pem');
    openssl(this.dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Parley test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    this.ca = readFileSync(this.caCert);
  }

  // { chain, key }: files of a leaf with this serial, the chain being leaf + CA.
  serverCert(serial) {
    const name = `server-${serial}`;
    openssl(this.dir, 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(path.join(this.dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    openssl(this.dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
      '-set_serial', String(serial), '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
    const chain = path.join(this.dir, `${name}.pem`);
    writeFileSync(chain, Buffer.concat([readFileSync(path.join(this.dir, `${name}.crt`)), this.ca]));
    return { chain, key: path.join(this.dir, `${name}.key`) };
  }

  remove() { rmSync(this.dir, { recursive: true, force: true }); }
}
