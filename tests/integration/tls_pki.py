"""A throwaway certificate authority for the TLS tests, made with the
`openssl` command in a temporary folder: a CA, server certificates it signs
(for 127.0.0.1 and localhost, with a chosen serial so a test can tell which
one a handshake saw), and client-side ssl contexts that trust only that CA."""
from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def _run(*args: str, cwd: Path):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Pki:
    """`Pki()` makes the CA; `server_cert(serial)` a leaf it signs."""

    def __init__(self, folder: Path | None = None):
        self.dir = Path(folder or tempfile.mkdtemp(prefix="parley-pki-"))
        self.ca_key = self.dir / "ca.key"
        self.ca_cert = self.dir / "ca.pem"
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(self.ca_key), "-out", str(self.ca_cert), "-days", "2",
             "-subj", "/CN=Parley test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign", cwd=self.dir)

    def server_cert(self, serial: int, name: str | None = None, rsa: bool = False) -> tuple[Path, Path]:
        """(chain, key) of a leaf for 127.0.0.1/localhost with this serial; the
        chain file holds the leaf and then the CA, as a real deployment's would."""
        name = name or f"server-{serial}"
        key, csr, leaf, chain = (self.dir / f"{name}.{ext}" for ext in ("key", "csr", "crt", "pem"))
        newkey = ["rsa:2048"] if rsa else ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        _run("req", "-new", "-newkey", *newkey, "-nodes", "-keyout", str(key), "-out", str(csr),
             "-subj", f"/CN={name}", cwd=self.dir)
        ext = self.dir / f"{name}.ext"
        ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        _run("x509", "-req", "-in", str(csr), "-CA", str(self.ca_cert), "-CAkey", str(self.ca_key),
             "-set_serial", str(serial), "-days", "1", "-extfile", str(ext), "-out", str(leaf), cwd=self.dir)
        chain.write_bytes(leaf.read_bytes() + self.ca_cert.read_bytes())
        return chain, key

    def client_context(self, version: ssl.TLSVersion | None = None, alpn=("http/1.1",)) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_cert))
        if version is not None:
            ctx.minimum_version = version
            ctx.maximum_version = version
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        return ctx

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def serial_of(ssl_object) -> int:
    """The serial of the certificate the server presented (validated chain)."""
    return int(ssl_object.getpeercert()["serialNumber"], 16)
