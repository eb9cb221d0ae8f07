"""Globus staging with globus-sdk's real TransferClient and AuthClient code against the SDK's
own test fixtures (``globus_sdk.testing``, built on ``responses``).

No real Globus service runs here: ``responses`` answers every request the SDK makes, and any
request it has not been told about raises, so nothing leaves the machine. No data moves: the
tests check what is sent (endpoints, paths after the endpoint_path/local_path mapping,
submission ids, token refresh) and how answers are turned into results and errors."""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

pytest.importorskip("globus_sdk", reason="needs parsl-data[globus] (globus-sdk)")
import responses
from globus_sdk.testing import RegisteredResponse, load_response

import parsl
from parsl import App, DataFlowKernel, File, python_app
from parsl.app.errors import DependencyError
from parsl.data_provider.errors import StagingError
from parsl_data.globus import GlobusStaging
from parsl_data.globus_auth import load_tokens, login

SRC = "037f054a-15cf-11e8-b611-0ac6873fc732"
DST = "ddb59aef-6d04-11e5-ba46-22000b92c6ec"
HERE = "7d2dc622-2edb-11e8-b8be-0ac6873fc732"
TASK = "00000000-0000-0000-0000-0000699934d5"  # the submit_transfer fixture's task id
SUBMISSION = "00000000-0000-0000-34af-1252da510f05"


def _token_response(access: str, refresh: str | None = "RT-1") -> dict:
    return {
        "access_token": access, "expires_in": 172800, "resource_server": "transfer.api.globus.org",
        "token_type": "Bearer", "scope": "urn:globus:auth:scope:transfer.api.globus.org:all",
        "refresh_token": refresh, "other_tokens": [],
    }


def _task(status: str, **extra: object) -> RegisteredResponse:
    return RegisteredResponse(
        service="transfer", path=f"/v0.10/task/{TASK}",
        json={"DATA_TYPE": "task", "task_id": TASK, "status": status, "type": "TRANSFER", **extra},
    )


@pytest.fixture
def globus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """responses active; a token file (as 'parsl globus login' leaves it) whose access token
    has expired, so the first call refreshes it."""
    tokens = tmp_path / "home" / ".parsl" / "globus-tokens.json"
    tokens.parent.mkdir(parents=True)
    tokens.write_text(json.dumps({"client_id": "11111111-2222-3333-4444-555555555555", "refresh_token": "RT-0",
                                  "access_token": "AT-old", "expires_at_seconds": int(time.time()) - 60}))
    monkeypatch.setenv("PARSL_GLOBUS_TOKENS", str(tokens))
    responses.start()
    RegisteredResponse(service="auth", method="POST", path="/v2/oauth2/token", json=_token_response("AT-1")).add()
    load_response("transfer.get_submission_id")
    yield tokens
    responses.stop()
    responses.reset()


def _sent(path_end: str) -> list[responses.Call]:
    return [c for c in responses.calls if c.request.url.split("?")[0].endswith(path_end)]


def _submitted() -> dict:
    (call,) = _sent("/v0.10/transfer")
    return json.loads(call.request.body)


def test_the_050_dict_config_maps_the_working_dir_onto_the_endpoint(globus, tmp_path):
    """§3.5: data.globus.endpoint_name / endpoint_path / local_path and data.working_dir."""
    load_response("transfer.submit_transfer")
    _task("SUCCEEDED").add()
    config = {
        "sites": [{
            "site": "Local_Threads", "auth": {"channel": None},
            "execution": {"executor": "threads", "provider": None, "maxThreads": 2},
            "data": {
                "working_dir": str(tmp_path / "user" / "parsl_script"),
                "globus": {"endpoint_name": HERE, "endpoint_path": "/", "local_path": str(tmp_path / "user")},
            },
        }],
        "globals": {"lazyErrors": True},
    }
    dfk = DataFlowKernel(config=config)
    try:
        staged = File(f"globus://{SRC}/unsorted.txt").stage_in().result(timeout=30)
    finally:
        dfk.cleanup()
    assert staged == str(tmp_path / "user" / "parsl_script" / "unsorted.txt")
    body = _submitted()
    assert (body["source_endpoint"], body["destination_endpoint"], body["submission_id"]) == (SRC, HERE, SUBMISSION)
    assert [(d["source_path"], d["destination_path"]) for d in body["DATA"]] == [("/unsorted.txt", "/parsl_script/unsorted.txt")]
    assert body["verify_checksum"] is True
    # the expired access token was refreshed once, and the new one saved, readable by its owner only
    assert len(_sent("/v2/oauth2/token")) == 1
    assert _sent("/v0.10/transfer")[0].request.headers["Authorization"] == "Bearer AT-1"
    saved = load_tokens(str(globus))
    assert (saved["access_token"], saved["refresh_token"]) == ("AT-1", "RT-1")
    assert stat.S_IMODE(os.stat(globus).st_mode) == 0o600


def test_the_typed_config_stages_an_apps_output_out_from_the_mapped_path(globus, tmp_path):
    load_response("transfer.submit_transfer")
    _task("SUCCEEDED").add()
    wd = tmp_path / "scratch" / "run1"
    wd.mkdir(parents=True)
    ex = parsl.ThreadPoolExecutor(
        storage_access=[GlobusStaging(endpoint_name=HERE, endpoint_path="/~/", local_path=str(tmp_path / "scratch"))], working_dir=str(wd)
    )

    @python_app
    def write(outputs=()):
        with open(outputs[0], "w") as f:
            f.write("sorted\n")

    with parsl.load(parsl.Config(executors=[ex])):
        fut = write(outputs=[File(f"globus://{DST}/home/johndoe/sorted.txt")])
        assert fut.outputs[0].result(timeout=30) == str(wd / "sorted.txt")
    body = _submitted()
    assert (body["source_endpoint"], body["destination_endpoint"]) == (HERE, DST)
    assert [(d["source_path"], d["destination_path"]) for d in body["DATA"]] == [("/~/run1/sorted.txt", "/home/johndoe/sorted.txt")]


def test_the_documented_endpoint_name_form_is_sent_whole(globus, tmp_path):
    load_response("transfer.submit_transfer")
    _task("SUCCEEDED").add()
    st = GlobusStaging(HERE)
    st.fetch(File("globus://go#ep1/~/data/input.txt"), str(tmp_path / "input.txt"))
    body = _submitted()
    assert body["source_endpoint"] == "go#ep1" and body["DATA"][0]["source_path"] == "~/data/input.txt"
    assert body["DATA"][0]["destination_path"] == str(tmp_path / "input.txt")


def test_a_failed_transfer_fails_the_app_with_globuss_own_message(globus, tmp_path):
    load_response("transfer.submit_transfer")
    _task("FAILED", nice_status="PERMISSION_DENIED", fatal_error={"code": "PERMISSION_DENIED", "description": "permission denied on /unsorted.txt"}).add()
    config = {"sites": [{"site": "here", "auth": {"channel": None}, "execution": {"executor": "threads", "provider": None},
                         "data": {"globus": {"endpoint_name": HERE}}}]}
    dfk = DataFlowKernel(config=config)
    try:
        @App("python", dfk)
        def count(inputs=()):
            return len(open(inputs[0]).read())

        url = f"globus://{SRC}/unsorted.txt"
        with pytest.raises(DependencyError, match=rf"staging in {url} failed: Globus task {TASK} FAILED: permission denied on /unsorted.txt"):
            count(inputs=[File(url)]).result(timeout=30)
    finally:
        dfk.cleanup()


def test_a_refused_submission_surfaces_globuss_error(globus, tmp_path):
    load_response("transfer.submit_transfer", case="failure")
    with pytest.raises(StagingError, match=r"Globus refused the transfer: ClientError.BadRequest.NoTransferItems: A transfer requires at least one item"):
        GlobusStaging(HERE).fetch(File(f"globus://{SRC}/x.txt"), str(tmp_path / "x.txt"))
    assert len(_sent("/v0.10/transfer")) == 1


def test_a_transfer_that_outlives_its_timeout_is_cancelled_and_fails(globus, tmp_path):
    load_response("transfer.submit_transfer")
    _task("ACTIVE", nice_status="CONNECTION_FAILED").add()
    RegisteredResponse(service="transfer", method="POST", path=f"/v0.10/task/{TASK}/cancel",
                       json={"DATA_TYPE": "result", "code": "Canceled", "message": "The task has been cancelled successfully."}).add()
    with pytest.raises(StagingError, match=rf"Globus task {TASK} did not finish within 1 s \(status ACTIVE, CONNECTION_FAILED\); it was cancelled"):
        GlobusStaging(HERE, timeout=1, polling_interval=1).fetch(File(f"globus://{SRC}/x.txt"), str(tmp_path / "x.txt"))
    assert len(_sent(f"/v0.10/task/{TASK}/cancel")) == 1


def test_without_a_login_the_error_says_to_run_parsl_globus_login(tmp_path, monkeypatch):
    monkeypatch.setenv("PARSL_GLOBUS_TOKENS", str(tmp_path / "none.json"))
    with pytest.raises(StagingError, match=r"no Globus tokens at .*none.json: run 'parsl globus login --client-id"):
        GlobusStaging(HERE).fetch(File(f"globus://{SRC}/x.txt"), str(tmp_path / "x.txt"))


def test_a_site_without_an_endpoint_name_says_where_to_set_it(globus, tmp_path):
    with pytest.raises(StagingError, match=r"no Globus endpoint for this executor: set data.globus.endpoint_name"):
        GlobusStaging().fetch(File(f"globus://{SRC}/x.txt"), str(tmp_path / "x.txt"))


def test_a_path_outside_local_path_cannot_be_mapped(globus, tmp_path):
    st = GlobusStaging(HERE, "/", str(tmp_path / "mounted"))
    with pytest.raises(StagingError, match=r"is outside local_path"):
        st.fetch(File(f"globus://{SRC}/x.txt"), str(tmp_path / "elsewhere" / "x.txt"))


def test_endpoint_path_and_local_path_go_together():
    with pytest.raises(ValueError, match="endpoint_path and local_path go together"):
        GlobusStaging(HERE, endpoint_path="/")


def test_login_runs_the_native_app_flow_once_and_stores_the_tokens_0600(tmp_path):
    responses.start()
    try:
        RegisteredResponse(service="auth", method="POST", path="/v2/oauth2/token", json=_token_response("AT-new", "RT-new")).add()
        said: list[str] = []
        path = login("11111111-2222-3333-4444-555555555555", str(tmp_path / "t" / "tokens.json"), ask=lambda _: " CODE-123 ", say=said.append)
        (call,) = responses.calls
    finally:
        responses.stop()
        responses.reset()
    assert "/v2/oauth2/authorize?" in said[0] and "transfer.api.globus.org" in said[0]
    assert "code=CODE-123" in call.request.body and "grant_type=authorization_code" in call.request.body
    assert load_tokens(path) | {"expires_at_seconds": 0} == {
        "client_id": "11111111-2222-3333-4444-555555555555", "refresh_token": "RT-new", "access_token": "AT-new", "expires_at_seconds": 0,
    }
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "AT-new" not in repr(GlobusStaging(HERE, token_file=path))


def test_parsl_globus_is_a_subcommand_of_the_parsl_command(tmp_path, capsys):
    from parsl.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    assert "globus" in capsys.readouterr().out
    tokens = tmp_path / "tokens.json"
    tokens.write_text("{}")
    assert main(["globus", "logout", "--token-file", str(tokens)]) == 0
    assert not tokens.exists()
    with pytest.raises(SystemExit) as info:
        main(["globus", "login"])
    assert info.value.code == 2 and "give --client-id" in capsys.readouterr().err
