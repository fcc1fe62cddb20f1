"""The sans-I/O wire format: framing and decoding, with no process or socket involved."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskbridge import protocol
from deskbridge.errors import ErrorCode
from deskbridge.protocol import LINE_TOO_LONG, Command, LineFramer, Rejected, parse_command


def rejected(line: bytes) -> dict[str, object]:
    result = parse_command(line)
    assert isinstance(result, Rejected)
    response: dict[str, object] = json.loads(result.response)
    assert response["type"] == "ERROR_RESPONSE"
    assert response["success"] is False
    return response


class TestFraming:
    def test_splits_lines_across_chunk_boundaries(self) -> None:
        framer = LineFramer()
        assert framer.feed(b'{"a":1}\n{"b"') == [b'{"a":1}']
        assert framer.feed(b":2}\n") == [b'{"b":2}']

    def test_skips_blank_and_whitespace_lines(self) -> None:
        assert LineFramer().feed(b"\n  \n\t\r\nx\n") == [b"x"]

    def test_keeps_carriage_return_for_the_json_decoder(self) -> None:
        (line,) = LineFramer().feed(b'{"id":"1","type":"PING"}\r\n')
        assert isinstance(parse_command(line), Command)

    def test_last_line_without_newline_counts_at_close(self) -> None:
        framer = LineFramer()
        assert framer.feed(b"one\ntwo") == [b"one"]
        assert framer.close() == [b"two"]
        assert framer.close() == []

    def test_oversized_line_is_reported_once_and_skipped(self) -> None:
        framer = LineFramer(max_line=10)
        out = framer.feed(b"x" * 8)
        out += framer.feed(b"y" * 8)
        assert out == [LINE_TOO_LONG]
        assert framer.buffered == 0
        assert framer.feed(b"z" * 100) == []
        assert framer.feed(b"zz\nok\n") == [b"ok"]

    def test_oversized_line_within_one_chunk(self) -> None:
        assert LineFramer(max_line=4).feed(b"12345\nabc\n") == [LINE_TOO_LONG, b"abc"]

    def test_a_line_of_exactly_the_limit_passes(self) -> None:
        assert LineFramer(max_line=4).feed(b"1234\n") == [b"1234"]

    def test_never_buffers_past_the_limit(self) -> None:
        framer = LineFramer(max_line=1000)
        for _ in range(100):
            framer.feed(b"a" * 333)
            assert framer.buffered <= 1000

    @given(st.lists(st.binary(max_size=40), max_size=20), st.data())
    def test_same_lines_whatever_the_split(self, pieces: list[bytes], data: st.DataObject) -> None:
        stream = b"\n".join(pieces) + b"\n"
        whole = LineFramer(max_line=32)
        expected = whole.feed(stream) + whole.close()
        cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
        split = LineFramer(max_line=32)
        got: list[bytes | protocol.LineTooLong] = []
        for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            got += split.feed(stream[start:end])
            assert split.buffered <= 32
        got += split.close()
        assert got == expected


class TestCommands:
    def test_a_seed_command_decodes(self) -> None:
        command = parse_command(b'{"id":"cmd-1","type":"GET_ACCOUNTS","payload":{},"timestamp":1637200000000}')
        assert command == Command("cmd-1", "GET_ACCOUNTS", command.payload, 1637200000000)  # type: ignore[union-attr]

    def test_payload_may_be_omitted(self) -> None:
        command = parse_command(b'{"id":"1","type":"PING"}')
        assert isinstance(command, Command)
        assert bytes(command.payload) == b"{}"

    def test_extra_fields_are_ignored(self) -> None:
        assert isinstance(parse_command(b'{"id":"1","type":"PING","trace":"x"}'), Command)

    def test_not_json(self) -> None:
        assert rejected(b"hello")["error_code"] == ErrorCode.PARSE_ERROR

    def test_a_lone_surrogate_is_refused_but_keeps_its_id(self) -> None:
        response = rejected(b'{"id":"s1","type":"ECHO","payload":{"x":"\\ud800"}}')
        assert response["error_code"] == ErrorCode.PARSE_ERROR
        assert response["id"] == "s1"

    def test_invalid_utf8(self) -> None:
        assert rejected(b'{"id":"\xff","type":"PING"}')["error_code"] == ErrorCode.PARSE_ERROR

    @pytest.mark.parametrize("line", [b"[1,2]", b'"text"', b"42", b"null", b"true"])
    def test_json_that_is_not_an_object(self, line: bytes) -> None:
        assert rejected(line)["error_code"] == ErrorCode.INVALID_MESSAGE

    def test_missing_id_and_type_name_both_fields(self) -> None:
        response = rejected(b'{"payload":{}}')
        assert response["error_code"] == ErrorCode.INVALID_MESSAGE
        assert response["details"] == {"fields": ["$.id", "$.type"]}
        assert response["id"] is None

    def test_non_string_id_is_echoed_so_the_client_can_match_it(self) -> None:
        response = rejected(b'{"id":7,"type":"PING"}')
        assert response["id"] == 7
        assert response["details"] == {"fields": ["$.id"]}

    def test_non_string_type(self) -> None:
        response = rejected(b'{"id":"a","type":["PING"]}')
        assert response["id"] == "a"
        assert response["details"] == {"fields": ["$.type"]}

    def test_bad_timestamp(self) -> None:
        assert rejected(b'{"id":"a","type":"PING","timestamp":"soon"}')["details"] == {"fields": ["$.timestamp"]}


class TestMessages:
    def test_success_has_the_seed_fields_in_order(self) -> None:
        message = json.loads(protocol.success("cmd-1", "GET_ACCOUNTS", [1], timestamp=5))
        assert list(message) == ["id", "type", "success", "data", "error", "timestamp"]
        assert message == {
            "id": "cmd-1",
            "type": "GET_ACCOUNTS_RESPONSE",
            "success": True,
            "data": [1],
            "error": None,
            "timestamp": 5,
        }

    def test_failure_has_the_seed_fields(self) -> None:
        message = json.loads(protocol.failure("c", "QUEUE_NOT_FOUND", "no queue", timestamp=5))
        assert message == {
            "id": "c",
            "type": "ERROR_RESPONSE",
            "success": False,
            "error": "no queue",
            "error_code": "QUEUE_NOT_FOUND",
            "timestamp": 5,
        }

    def test_progress_event_puts_the_kind_in_type(self) -> None:
        event = protocol.progress_event("QUEUE_PROGRESS", {"operation_id": "o"}, timestamp=1)
        assert event == {
            "id": "progress-event",
            "type": "QUEUE_PROGRESS",
            "payload": {"operation_id": "o"},
            "timestamp": 1,
        }

    def test_validation_details_name_the_field(self) -> None:
        import msgspec

        class Payload(msgspec.Struct):
            total: int

        with pytest.raises(msgspec.ValidationError) as info:
            msgspec.json.decode(b'{"total":"x"}', type=Payload)
        message, details = protocol.validation_details(info.value)
        assert details == {"fields": ["$.total"]}
        assert "Expected `int`, got `str`" in message
