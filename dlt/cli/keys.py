"""`dlt keys`: create signing keys offline, before any node or network exists."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dlt.cli.main import EXIT_OK, CommandError, add_group
from dlt.crypto import PrivateKey, SignatureScheme, generate_key

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers

PRIVATE_FILE_MODE = 0o600
DEFAULT_KEY_NAME = "private_key"


def register(subparsers: Subparsers) -> None:
    """Add `dlt keys generate`."""
    keys = add_group(subparsers, "keys", summary="create signing keys")
    generate = keys.add_parser(
        "generate",
        help="generate a private key and print its public key",
        description=(
            "Generate a private key, write it as PKCS#8 PEM readable only by you, and print the "
            "public key in the text form configuration files use, with its fingerprint."
        ),
    )
    generate.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="directory to write the key to"
    )
    generate.add_argument(
        "--name",
        default=DEFAULT_KEY_NAME,
        help=f"file name without the .pem suffix (default: {DEFAULT_KEY_NAME})",
    )
    generate.add_argument(
        "--scheme",
        choices=[scheme.value for scheme in SignatureScheme],
        default=SignatureScheme.ED25519.value,
        help="signature scheme (default: ed25519, the ledger's scheme)",
    )
    generate.add_argument(
        "--password-env",
        metavar="VAR",
        help="encrypt the key with the password held in environment variable VAR",
    )
    generate.set_defaults(handler=generate_command)


def generate_command(args: argparse.Namespace) -> int:
    """Handler of `dlt keys generate`."""
    password = _password_from(args.password_env)
    path = _key_path(args.out, args.name)
    key = generate_key(SignatureScheme(args.scheme))
    write_private_file(path, key.to_pem(password))
    _print_key(path, key)
    return EXIT_OK


def write_private_file(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 and write `data`; never replaces an existing file.

    O_EXCL makes the existence check and the creation one step, so a key is never overwritten
    even when two commands race, and the mode is set before any secret byte is written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create directory {path.parent}: {exc.strerror}") from exc
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        raise CommandError(f"{path} already exists; refusing to overwrite a private key") from None
    except OSError as exc:
        raise CommandError(f"cannot create {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), PRIVATE_FILE_MODE)
            file.write(data)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {exc.strerror}") from exc


def _key_path(directory: Path, name: str) -> Path:
    if not name or Path(name).name != name or name in {".", ".."}:
        raise CommandError(f"--name must be a plain file name, got {name!r}")
    return directory / f"{name}.pem"


def _password_from(variable: str | None) -> bytes | None:
    if variable is None:
        return None
    password = os.environ.get(variable)
    if password is None:
        raise CommandError(f"environment variable {variable} is not set")
    if not password:
        raise CommandError(f"environment variable {variable} is empty; a password is required")
    return password.encode()


def _print_key(path: Path, key: PrivateKey) -> None:
    print(f"private key: {path}")
    print(f"public key:  {key.public_key.to_string()}")
    print(f"fingerprint: {key.public_key.fingerprint}")
