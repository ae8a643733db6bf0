"""Client certificates and kubeconfigs for the real nodes, signed by the CA kwokctl made for the
control plane (``<cluster>/pki/ca.crt`` and ``ca.key``), with openssl.

The API server authenticates a client certificate's CN as the user and its O as the groups
(kubernetes.io/docs/reference/access-authn-authz/authentication/#x509-client-certificates):

* a kubelet is ``CN=system:node:<node>, O=system:nodes``: the Node authorizer and the
  NodeRestriction admission plugin (both on in kwokctl's control plane) then let it register
  its own Node and manage its own pods only;
* kube-proxy is ``CN=system:kube-proxy``, bound to the built-in ClusterRole
  ``system:node-proxier`` by the default ClusterRoleBinding of the same name.
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

# A kubelet's and kube-proxy's client certificates live as long as a test session, with margin.
DAYS = 7


class PkiError(Exception):
    """openssl failed: the message is one line naming the step."""


@dataclass(frozen=True)
class ClientCert:
    cert: Path
    key: Path


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise PkiError(f"openssl {args[0]} failed: {last}")


def client_cert(ca: Path, ca_key: Path, folder: Path, name: str, subject: str) -> ClientCert:
    """An EC P-256 client certificate for ``subject`` (e.g. ``/O=system:nodes/CN=...``)."""
    folder.mkdir(parents=True, exist_ok=True)
    key, csr, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
    extensions = folder / f"{name}.ext"
    extensions.write_text("extendedKeyUsage = clientAuth\nkeyUsage = digitalSignature\n")
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key), cwd=folder)
    _openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr), cwd=folder)
    _openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-days",
        str(DAYS),
        "-extfile",
        str(extensions),
        "-out",
        str(cert),
        cwd=folder,
    )
    csr.unlink()
    extensions.unlink()
    return ClientCert(cert, key)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(target: Path, server: str, ca: Path, user: str, cert: ClientCert) -> Path:
    """A kubeconfig with everything embedded (no file references to go stale)."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "gitops-node",
                "cluster": {"server": server, "certificate-authority-data": _b64(ca)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(cert.cert),
                    "client-key-data": _b64(cert.key),
                },
            }
        ],
        "contexts": [{"name": user, "context": {"cluster": "gitops-node", "user": user}}],
        "current-context": user,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    target.chmod(0o600)
    return target
