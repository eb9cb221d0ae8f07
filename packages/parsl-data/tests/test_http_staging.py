"""HTTP staging against a real http.server on 127.0.0.1 (ranges, a slow handler, cut
connections): what arrives, what fails, and that no partial file ever stands in place."""
from __future__ import annotations

import hashlib
import socket
import threading
import time

import pytest

from parsl import File, python_app
from parsl.app.errors import DependencyError
from parsl.data_provider.errors import StagingError
from parsl_data.http import HTTPStaging
from parsl_data.testing import leftovers


@python_app
def read_bytes(inputs=()):
    with open(inputs[0], "rb") as f:
        return f.read(), str(inputs[0])


def test_an_http_input_is_downloaded_into_the_working_dir(kernel, http_server, served, wd):
    data, path = read_bytes(inputs=[File(http_server.url("in/big.bin"))]).result(timeout=30)
    assert data == (served / "in" / "big.bin").read_bytes()
    assert path == str(wd / "big.bin")
    assert leftovers(wd) == ["big.bin"]


def test_the_050_explicit_stage_in_returns_the_local_copy(kernel, http_server, wd):
    f = File(http_server.url("in/unsorted.txt"))
    staged = f.stage_in().result(timeout=30)
    assert staged == str(wd / "unsorted.txt") and staged.url == f.url
    assert open(staged).read() == "pear\napple\nfig\n"


def test_a_404_fails_the_app_with_a_dependency_error_naming_the_file(kernel, http_server, wd):
    url = http_server.url("in/missing.txt")
    fut = read_bytes(inputs=[File(url)])
    with pytest.raises(DependencyError) as info:
        fut.result(timeout=30)
    assert f"staging in {url} failed: HTTP 404 Not Found" in str(info.value)
    assert isinstance(info.value.__cause__, StagingError)
    assert leftovers(wd) == []


def test_a_refused_connection_fails_with_the_reason(kernel, wd):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.txt"
    with pytest.raises(DependencyError, match=rf"staging in {url} failed: .*Connection refused.*after 3 attempts"):
        read_bytes(inputs=[File(url)]).result(timeout=30)
    assert leftovers(wd) == []


def test_a_connection_cut_every_time_leaves_no_file_behind(kernel, http_server, wd):
    with pytest.raises(DependencyError, match=r"the connection closed before the whole file arrived \(after 3 attempts"):
        read_bytes(inputs=[File(http_server.url("in/big.bin", "cut"))]).result(timeout=30)
    assert leftovers(wd) == []


def test_a_connection_cut_once_is_resumed_with_a_range_request(kernel, http_server, served, wd):
    data, _ = read_bytes(inputs=[File(http_server.url("in/big.bin", "cut-once"))]).result(timeout=30)
    assert data == (served / "in" / "big.bin").read_bytes()
    assert http_server.requests == [("/cut-once/in/big.bin", None), ("/cut-once/in/big.bin", "bytes=150000-")]


def test_a_checksum_mismatch_discards_the_download(kernel, http_server, served, wd):
    url = http_server.url("in/unsorted.txt") + "#sha256=" + "0" * 64
    with pytest.raises(DependencyError, match=r"checksum mismatch: sha256 expected 0{64}, got [0-9a-f]{64}"):
        read_bytes(inputs=[File(url)]).result(timeout=30)
    assert leftovers(wd) == []
    good = hashlib.sha256((served / "in" / "unsorted.txt").read_bytes()).hexdigest()
    data, _ = read_bytes(inputs=[File(http_server.url("in/unsorted.txt") + f"#sha256={good}")]).result(timeout=30)
    assert data == b"pear\napple\nfig\n"


def test_a_malformed_checksum_fragment_is_named(kernel, http_server):
    with pytest.raises(DependencyError, match=r"the URL fragment 'sha999=1' is not a checksum"):
        read_bytes(inputs=[File(http_server.url("in/unsorted.txt") + "#sha999=1")]).result(timeout=30)


def test_while_a_download_is_under_way_only_a_partial_file_exists(http_server, served, tmp_path):
    dest = tmp_path / "dl" / "big.bin"
    err: list[BaseException] = []

    def fetch():
        try:
            HTTPStaging().fetch(File(http_server.url("in/big.bin", "slow")), str(dest))
        except BaseException as e:
            err.append(e)

    t = threading.Thread(target=fetch)
    t.start()
    assert http_server.httpd.halfway.wait(10)
    deadline = time.monotonic() + 10  # the server sent half: the client is writing it
    while not (dest.parent.exists() and leftovers(dest.parent)) and time.monotonic() < deadline:
        time.sleep(0.01)
    names = leftovers(dest.parent)
    assert len(names) == 1 and names[0].startswith(".big.bin.") and names[0].endswith(".partial")
    assert not dest.exists()
    http_server.httpd.release.set()
    t.join(10)
    assert not err and dest.read_bytes() == (served / "in" / "big.bin").read_bytes()
    assert leftovers(dest.parent) == ["big.bin"]


def test_http_cannot_stage_out_and_says_so(kernel, http_server):
    @python_app
    def produce(outputs=()):
        open(outputs[0], "w").write("x")

    with pytest.raises(StagingError, match=r"the 'http' staging plugin \(HTTPStaging\) cannot stage files out"):
        produce(outputs=[File(http_server.url("out/x.txt"))])


def test_attempts_must_be_positive():
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        HTTPStaging(attempts=0)


def test_upstreams_provider_names_work_at_upstreams_import_paths(http_server, served, tmp_path):
    """``from parsl.data_provider.http import HTTPInTaskStaging`` as upstream scripts write it:
    the in-task flavour downloads inside the task, on the executor's worker thread."""
    import parsl
    from parsl.data_provider.file_noop import NoOpFileStaging
    from parsl.data_provider.ftp import FTPInTaskStaging, FTPSeparateTaskStaging
    from parsl.data_provider.globus import GlobusStaging
    from parsl.data_provider.http import HTTPInTaskStaging, HTTPSeparateTaskStaging

    assert issubclass(HTTPSeparateTaskStaging, HTTPStaging) and issubclass(FTPSeparateTaskStaging, FTPInTaskStaging.__mro__[1])
    assert GlobusStaging.__module__ == "parsl_data.globus"

    @python_app
    def where(inputs=()):
        return threading.current_thread().name, open(inputs[0]).read()

    ex = parsl.ThreadPoolExecutor(thread_name_prefix="worker", storage_access=[NoOpFileStaging(), HTTPInTaskStaging()], working_dir=str(tmp_path / "w"))
    with parsl.load(parsl.Config(executors=[ex])):
        name, text = where(inputs=[File(http_server.url("in/unsorted.txt"))]).result(timeout=30)
    assert name.startswith("worker") and text == "pear\napple\nfig\n"


def _self_signed(cert, key):
    """A certificate for 127.0.0.1 (cryptography if installed, as with the globus extra;
    else the openssl command)."""
    try:
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        import subprocess

        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
        return
    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    c = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(k, hashes.SHA256())
    )
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


@pytest.fixture
def https_server(served, tmp_path):
    """A real TLS server on 127.0.0.1 with a self-signed certificate."""
    from parsl_data.testing import HTTPTestServer

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    _self_signed(cert, key)
    with HTTPTestServer(str(served), tls=(str(cert), str(key))) as srv:
        yield srv, cert


def test_https_is_verified_and_a_private_ca_can_be_trusted(kernel, https_server, monkeypatch, wd):
    srv, cert = https_server
    url = srv.url("in/unsorted.txt")
    assert url.startswith("https://127.0.0.1:")
    with pytest.raises(DependencyError, match=r"CERTIFICATE_VERIFY_FAILED.*trusted with SSL_CERT_FILE"):
        read_bytes(inputs=[File(url)]).result(timeout=30)
    assert leftovers(wd) == [] and srv.requests == []  # refused at the handshake, never retried
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    data, _ = read_bytes(inputs=[File(url)]).result(timeout=30)
    assert data == b"pear\napple\nfig\n"
