"""A revoked session ends at once over Socket.IO too (issue 17, item 2): its open
sockets are told ``session:ended`` and disconnected, and it cannot connect again."""

import httpx
import pytest

from tests.e2e.clients import ConnectRefused, connect
from tests.e2e.servers import Process
from tests.helpers.api import API, SignedIn, login

KINDS = ["js", "python"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_socket_of_a_logged_out_session_is_told_and_disconnected(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn, kind: str
) -> None:
    other_device = await login(http, alice.username)
    ending = await connect(kind, embedded_gateway.base_url, {"token": alice.access_token})
    staying = await connect(
        "python", embedded_gateway.base_url, {"token": other_device.access_token}
    )
    try:
        assert (await ending.emit("presence:set", {"status": "online"}))["ok"]
        out = await http.post(
            f"{API}/auth/logout", json={"refresh_token": alice.refresh_token}, headers=alice.headers
        )
        assert out.status_code == 204
        ended = await ending.wait_for("session:ended")
        assert ended == {"reason": "logout"}
        await ending.wait_for("disconnect")
        # The sign-in on the other device is another session: it stays.
        assert (await staying.emit("presence:set", {"status": "online"}))["ok"]
        assert staying.events("session:ended") == []
    finally:
        await ending.close()
        await staying.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_revoked_session_cannot_open_a_socket(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn, kind: str
) -> None:
    await http.post(
        f"{API}/auth/logout", json={"refresh_token": alice.refresh_token}, headers=alice.headers
    )
    with pytest.raises(ConnectRefused) as refused:
        await connect(kind, embedded_gateway.base_url, {"token": alice.access_token})
    assert refused.value.data["code"] == "session_revoked"


async def test_a_session_deleted_from_another_device_ends_its_sockets(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn
) -> None:
    phone = await login(http, alice.username)
    socket = await connect("js", embedded_gateway.base_url, {"token": phone.access_token})
    try:
        sessions = (await http.get(f"{API}/auth/sessions", headers=alice.headers)).json()["items"]
        phone_session = next(s for s in sessions if not s["current"])
        await http.delete(f"{API}/auth/sessions/{phone_session['id']}", headers=alice.headers)
        assert await socket.wait_for("session:ended") == {"reason": "revoked_by_user"}
        await socket.wait_for("disconnect")
    finally:
        await socket.close()
