"""Run-time certificates for the test registries and the token server."""
from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from typing import Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_SANS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class CertPaths:
    """PEM files written by make_certs()."""

    ca_cert: str
    ca_key: str
    server_cert: str
    server_key: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "oci.registry test harness"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _validity(builder: x509.CertificateBuilder, days: int) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))


def _write_key(path: str, key: Union[ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey]) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def load_rsa_key(path: str) -> rsa.RSAPrivateKey:
    """The RSA private key in the PEM file at path (unencrypted PKCS#8)."""
    with open(path, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA key")
    return key


def rsa_key_at(path: str) -> rsa.RSAPrivateKey:
    """The RSA key kept at path, made (mode 0600) the first time: a server restarted on the directory keeps it."""
    if not os.path.exists(path):
        _write_key(path, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return load_rsa_key(path)


def _write_cert(path: str, cert: x509.Certificate) -> None:
    with open(path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def make_certs(directory: str, sans: tuple[str, ...] = SERVER_SANS, days: int = 7) -> CertPaths:
    """Create a self-signed CA and a server certificate signed by it (EC P-256, SANs as given)."""
    os.makedirs(directory, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("oci.registry test CA")
    ca_builder = x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
    ca_builder = _validity(ca_builder, days).serial_number(x509.random_serial_number()).public_key(ca_key.public_key())
    ca_builder = ca_builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    ca_builder = ca_builder.add_extension(
        x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                      key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
        critical=True)
    ca_builder = ca_builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
    ca_cert = ca_builder.sign(ca_key, hashes.SHA256())

    server_key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateBuilder().subject_name(_name(sans[0])).issuer_name(ca_name)
    builder = _validity(builder, days).serial_number(x509.random_serial_number()).public_key(server_key.public_key())
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    builder = builder.add_extension(_san(sans), critical=False)
    builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    server_cert = builder.sign(ca_key, hashes.SHA256())

    paths = CertPaths(
        ca_cert=os.path.join(directory, "ca.crt"),
        ca_key=os.path.join(directory, "ca.key"),
        server_cert=os.path.join(directory, "server.crt"),
        server_key=os.path.join(directory, "server.key"),
    )
    _write_cert(paths.ca_cert, ca_cert)
    _write_key(paths.ca_key, ca_key)
    _write_cert(paths.server_cert, server_cert)
    _write_key(paths.server_key, server_key)
    return paths


def make_signing_key(directory: str, common_name: str = "oci.registry test token signer",
                     days: int = 7) -> tuple[rsa.RSAPrivateKey, str, str]:
    """Create an RSA key for RS256 tokens and a self-signed certificate for the registry's rootcertbundle.

    Returns (private key, key path, certificate path).
    """
    os.makedirs(directory, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name(common_name)
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name)
    builder = _validity(builder, days).serial_number(x509.random_serial_number()).public_key(key.public_key())
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    cert = builder.sign(key, hashes.SHA256())
    key_path = os.path.join(directory, "token-signer.key")
    cert_path = os.path.join(directory, "token-signer.crt")
    _write_key(key_path, key)
    _write_cert(cert_path, cert)
    return key, key_path, cert_path
