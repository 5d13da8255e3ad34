"""The transport's JSON (realtime/codec.py) reads every packet the stock one reads."""

import math

import pytest

from goftogu.realtime.codec import Json, Packet


def test_a_lone_surrogate_sent_by_a_client_is_read_as_the_standard_library_reads_it() -> None:
    assert Json.loads('["message:send",{"content":"x\\ud800"}]') == [
        "message:send",
        {"content": "x\ud800"},
    ]


def test_nan_is_read_as_the_standard_library_reads_it() -> None:
    assert math.isnan(Json.loads("[NaN]")[0])


def test_what_is_not_json_is_still_refused() -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        Json.loads("[")


def test_an_event_packet_with_a_lone_surrogate_decodes() -> None:
    pkt = Packet(encoded_packet='21["auth:refresh",{"token":"\\udfff"}]')
    assert pkt.id == 1
    assert pkt.data == ["auth:refresh", {"token": "\udfff"}]


def test_a_lone_surrogate_in_what_the_server_sends_is_written_escaped() -> None:
    assert Json.loads(Json.dumps({"echo": "x\ud800"})) == {"echo": "x\ud800"}
