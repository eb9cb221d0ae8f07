"""Globus login for staging: globus-sdk's native-app flow run once (``parsl globus login``),
tokens kept in a file only the user can read (0600), refreshed when they expire.

::

    parsl globus login ─▶ authorize URL ─▶ user pastes the code ─▶ tokens ─▶ token file (0600)
    GlobusStaging ─▶ RefreshTokenAuthorizer(token file) ─ access token expired? ─▶ refresh ─▶ file

The token file is ``~/.parsl/globus-tokens.json`` unless ``PARSL_GLOBUS_TOKENS`` names
another. The native app's client id comes from ``--client-id`` or ``PARSL_GLOBUS_CLIENT_ID``
(register one in the Globus web app's developer settings).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from typing import Any, Callable

import globus_sdk
from globus_sdk.scopes import TransferScopes

from parsl.errors import ParslError

TRANSFER = "transfer.api.globus.org"


class GlobusLoginNeeded(ParslError):
    """There are no usable Globus tokens: ``parsl globus login`` has not been run."""


def token_file(path: str | None = None) -> str:
    return path or os.environ.get("PARSL_GLOBUS_TOKENS") or os.path.join(os.path.expanduser("~"), ".parsl", "globus-tokens.json")


def save_tokens(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".globus-tokens.", dir=directory)  # created 0600
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_tokens(path: str) -> dict[str, Any]:
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise GlobusLoginNeeded(f"no Globus tokens at {path}: run 'parsl globus login --client-id <native app client id>' once") from None
    except (OSError, ValueError) as e:
        raise GlobusLoginNeeded(f"the Globus token file {path} is unreadable ({e}): run 'parsl globus login' again") from None
    if not isinstance(data, dict) or not data.get("refresh_token") or not data.get("client_id"):
        raise GlobusLoginNeeded(f"the Globus token file {path} holds no refresh token: run 'parsl globus login' again")
    return data


def _record(client_id: str, tokens: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "refresh_token": tokens.get("refresh_token") or (previous or {}).get("refresh_token"),
        "access_token": tokens["access_token"],
        "expires_at_seconds": tokens["expires_at_seconds"],
    }


def transfer_authorizer(path: str | None = None) -> globus_sdk.RefreshTokenAuthorizer:
    """An authorizer for the Transfer API from the token file; refreshed tokens are saved."""
    path = token_file(path)
    data = load_tokens(path)
    auth = globus_sdk.NativeAppAuthClient(data["client_id"], app_name="parsl")

    def saved(resp: globus_sdk.OAuthRefreshTokenResponse) -> None:
        save_tokens(path, _record(data["client_id"], resp.by_resource_server[TRANSFER], data))

    return globus_sdk.RefreshTokenAuthorizer(
        data["refresh_token"], auth, access_token=data.get("access_token"), expires_at=data.get("expires_at_seconds"), on_refresh=saved
    )


def login(client_id: str, path: str | None = None, ask: Callable[[str], str] = input, say: Callable[[str], None] = print) -> str:
    """Run the native-app flow: show the authorize URL, read the code, store the tokens."""
    path = token_file(path)
    client = globus_sdk.NativeAppAuthClient(client_id, app_name="parsl")
    client.oauth2_start_flow(requested_scopes=TransferScopes.all, refresh_tokens=True)
    say(f"Log in to Globus at this address and paste the authorization code it shows:\n\n  {client.oauth2_get_authorize_url()}\n")
    code = ask("Authorization code: ").strip()
    if not code:
        raise GlobusLoginNeeded("no authorization code given; nothing was stored")
    tokens = client.oauth2_exchange_code_for_tokens(code)
    save_tokens(path, _record(client_id, tokens.by_resource_server[TRANSFER]))
    say(f"Globus tokens stored in {path} (readable by you only).")
    return path


def main(argv: list[str] | None = None) -> int:
    """``parsl globus login|logout``."""
    parser = argparse.ArgumentParser(prog="parsl globus", description="Globus login for parsl-data's globus:// staging")
    sub = parser.add_subparsers(dest="action", required=True)
    p_in = sub.add_parser("login", help="log in once with Globus's native-app flow; store refreshable tokens (0600)")
    p_in.add_argument("--client-id", default=os.environ.get("PARSL_GLOBUS_CLIENT_ID"), help="your native app's client id (or PARSL_GLOBUS_CLIENT_ID)")
    p_in.add_argument("--token-file", default=None, help="where to keep the tokens (default: PARSL_GLOBUS_TOKENS or ~/.parsl/globus-tokens.json)")
    p_out = sub.add_parser("logout", help="forget the stored tokens")
    p_out.add_argument("--token-file", default=None)
    args = parser.parse_args(argv)
    if args.action == "logout":
        path = token_file(args.token_file)
        if os.path.exists(path):
            os.unlink(path)
            print(f"removed {path}")
        return 0
    if not args.client_id:
        parser.error("give --client-id (or set PARSL_GLOBUS_CLIENT_ID): the client id of a native app registered in Globus's developer settings")
    try:
        login(args.client_id, args.token_file)
    except (GlobusLoginNeeded, globus_sdk.GlobusAPIError) as e:
        print(f"login failed: {e}")
        return 1
    return 0
