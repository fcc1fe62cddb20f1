"""The rows of docs/reliability.md: each case, the tests that prove it, what the user sees and what is lost.

``tools/reliability.py`` runs every test named here, reads the figures the
tests recorded (``artifacts/reliability/<case id>.json``) and renders the
table. To add a row: write the test (a robustness test records its figures
with :func:`tests.robustness.support.record` under the case's id) and add a
:class:`Case` below; ``test_cases.py`` fails while a test of this suite
belongs to no row, or a row names a test that does not exist.

A test is named by its pytest node id without parameters; all its
parameters count. Tests elsewhere in the suite are named where they already
prove a row, rather than repeated here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROBUSTNESS: Final = "tests/robustness/"
ROOT: Final = Path(__file__).resolve().parents[2]
FIGURES_ENV: Final = "DESKBRIDGE_RELIABILITY_DIR"


def figures_dir() -> Path:
    """Where tests record their figures: ``artifacts/reliability`` (or ``$DESKBRIDGE_RELIABILITY_DIR``)."""
    return Path(os.environ.get(FIGURES_ENV) or ROOT / "artifacts" / "reliability")


@dataclass(frozen=True)
class Case:
    id: str
    section: str
    title: str
    tests: tuple[str, ...]
    user_sees: str = ""
    lost: str = ""


def nodes(*names: str) -> tuple[str, ...]:
    """Node ids; ``test_faults::test_x`` is short for ``tests/robustness/test_faults.py::test_x``."""
    return tuple(name if "/" in name else f"{ROBUSTNESS}{name.replace('::', '.py::', 1)}" for name in names)


FUZZ, HTTP, FAULTS, LOAD, SOAK, SECURITY, FIXED = (
    "Fuzzing the core",
    "HTTP surface",
    "Fault matrix",
    "Hostile local load",
    "Soak",
    "Security",
    "Fixed findings (regressions)",
)
SECTIONS: Final = (FUZZ, HTTP, FAULTS, LOAD, SOAK, SECURITY, FIXED)

CASES: Final[tuple[Case, ...]] = (
    # -- Fuzzing the core --------------------------------------------------------------------------
    Case(
        "fuzz.framer",
        FUZZ,
        "Line framer and decoder: arbitrary bytes cut anywhere, under any line limit (hypothesis)",
        nodes(
            "test_fuzz_core::test_arbitrary_bytes_frame_as_the_model_says_whatever_the_cuts",
            "test_fuzz_core::test_every_line_decodes_to_a_command_or_its_error_response",
            "test_fuzz_core::test_the_same_messages_come_out_of_whole_and_cut_streams",
            "tests/test_protocol.py::TestFraming",
        ),
        "never an exception; an oversized line is one MESSAGE_TOO_LARGE; every other line a command or its error",
        "nothing: the framer never holds more than --max-line bytes",
    ),
    Case(
        "fuzz.atheris",
        FUZZ,
        "Coverage-guided fuzzing of the framer and decoder (atheris, fuzz/fuzz_framer.py, seed corpus fuzz/corpus)",
        nodes(
            "test_fuzz_core::test_a_bounded_coverage_guided_pass_finds_nothing",
        ),
        "—",
        "—",
    ),
    Case(
        "fuzz.router",
        FUZZ,
        "Every command of studio, guardian and diag fed arbitrary JSON payloads through the router",
        nodes(
            "test_router_fuzz::test_any_payload_gets_one_well_formed_answer",
        ),
        "exactly one answer each: <TYPE>_RESPONSE with data of the declared type, or an ERROR_RESPONSE with a"
        " documented code (INTERNAL_ERROR only from CRASH)",
        "—",
    ),
    # -- HTTP surface ------------------------------------------------------------------------------
    Case(
        "http.schema",
        HTTP,
        "schemathesis against /openapi.json of `deskbridge serve studio` and `serve guardian` (valid and "
        "invalid requests)",
        nodes(
            "test_http_schema::test_every_answer_is_in_the_openapi_document_and_none_is_a_5xx",
            "test_http_schema::test_the_answer_to_a_numeric_id_is_in_the_document",
        ),
        "no 5xx; every status, content type and body as the document says",
        "—",
    ),
    # -- Fault matrix ------------------------------------------------------------------------------
    Case(
        "fault.kill-burst",
        FAULTS,
        "SIGKILL of the backend during an event burst (stdio; the web door's twin in test_web_events)",
        nodes(
            "test_faults::test_sigkill_during_an_event_burst_loses_no_event_a_client_received",
            "tests/transports/test_web_events.py::test_kill_9_during_bursts_then_resume_gets_every_event_exactly_once",
            "tests/transports/test_stdio.py::test_events_a_command_raised_survive_a_kill_as_soon_as_it_is_answered",
            "tests/transports/test_web_events.py::test_events_a_command_raised_are_on_disk_before_its_response",
        ),
        "the stream stops; after a restart GET_EVENTS (or a resume) gives every event again, seq continues",
        "only events no client received and whose command was not answered; never one that was",
    ),
    Case(
        "fault.kill-download",
        FAULTS,
        "SIGKILL of the backend during a batch download (12 clips, 2 at a time, against the stand-in Suno)",
        nodes(
            "test_faults::test_sigkill_during_a_batch_download_keeps_every_file_the_client_was_told_of",
        ),
        "at the next start the batch ends failed, OPERATION_INTERRUPTED; re-running it skips what is in the history, "
        "gives a clip the kill cut short the name it would have had ('Title.mp3', not 'Title (2).mp3') and adopts "
        "a file the kill left finished but unrecorded (recorded as it is, not downloaded again as 'Title (2).mp3')",
        "the clips in flight; the file of a clip reported downloaded is whole and recorded. The in-flight clip's "
        ".part stays until that clip is downloaded again, which removes it (a .part still locked by a live download "
        "is never touched)",
    ),
    Case(
        "fault.kill-queue",
        FAULTS,
        "SIGKILL of the backend during a queue's song creation (START_QUEUE_EXECUTION, real Chromium)",
        nodes(
            "tests/studio/creation/test_queue_execution.py::"
            "test_a_backend_killed_mid_song_resumes_without_making_any_song_twice_or_skipping_one",
        ),
        "the queue resumes at its saved completed_count; the song in flight is looked up in the feed, not "
        "submitted again",
        "nothing: no song made twice, none skipped (counted at the stand-in)",
    ),
    Case(
        "fault.kill-export",
        FAULTS,
        "SIGKILL of the backend during a history export over an existing file",
        nodes(
            "test_faults::test_sigkill_during_a_history_export_leaves_the_previous_file_whole",
        ),
        "no answer; the previous export is intact byte for byte, never a half file; the next export to that "
        "target removes the hidden temporary file (.history.*.tmp) the killed one left",
        "nothing acknowledged; the temporary file stays beside the target until the next export to it",
    ),
    Case(
        "fault.kill-sqlite",
        FAULTS,
        "SIGKILL of the backend during SQLite writes (batches of 300 prompts, three rounds at random moments)",
        nodes(
            "test_faults::test_sigkill_during_sqlite_writes_loses_no_acknowledged_write_and_no_write_is_half_done",
            "tests/studio/library/test_persistence.py::test_a_kill_9_right_after_each_answer_loses_nothing",
            "tests/studio/library/test_persistence.py::"
            "test_a_rename_cut_short_between_the_move_and_the_commit_is_undone_at_start",
            "tests/guardian/test_flow.py::test_killed_mid_session_the_guardian_resumes_it",
            "tests/test_operations.py::test_an_operation_a_crash_interrupted_ends_failed_at_the_next_start",
        ),
        "the unanswered batch is there whole or not at all; PRAGMA integrity_check is ok",
        "nothing acknowledged; never half a batch",
    ),
    Case(
        "fault.kill-client-stdio",
        FAULTS,
        "SIGKILL of a stdio front end mid-operation",
        nodes(
            "test_faults::test_sigkill_of_a_stdio_client_mid_operation_stops_its_backend_cleanly",
            "tests/transports/test_stdio.py::TestShutdown::test_the_death_of_the_parent_stops_the_backend",
        ),
        "the backend sees EOF and stops within 2 s; the operation ends cancelled, on disk for the next start",
        "nothing the client received",
    ),
    Case(
        "fault.kill-client-web",
        FAULTS,
        "SIGKILL of a WebSocket client mid-operation",
        nodes(
            "test_faults::test_sigkill_of_a_websocket_client_mid_operation_loses_it_nothing",
            "tests/transports/test_web_events.py::test_a_client_disconnecting_mid_stream_loses_nothing",
        ),
        "the server drops the client and goes on; the operation completes; a new client resumes and gets it all",
        "nothing",
    ),
    Case(
        "fault.disk-full-download",
        FAULTS,
        "Disk full while downloading (5 clips of 600 kB into a 2 MiB tmpfs)",
        nodes(
            "test_faults::test_disk_full_while_downloading_loses_no_finished_clip",
            "test_faults::test_disk_full_while_downloading_fails_the_clips_that_do_not_fit_and_goes_on",
        ),
        "each clip that does not fit fails DOWNLOAD_FAILED 'no space left on the disk for <file>' (an ERROR_UPDATE);"
        " the batch goes on and ends completed, counting them as failed",
        "nothing: every clip reported downloaded is recorded and whole; no .part left",
    ),
    Case(
        "fault.disk-full-events",
        FAULTS,
        "Disk full while appending events (1 MiB tmpfs under the data dir)",
        nodes(
            "test_faults::test_disk_full_while_appending_events_never_answers_success_for_events_it_did_not_store",
            "test_regressions::test_a_full_disk_holds_unstored_events_and_stores_them_when_there_is_room",
        ),
        "a command whose events are not on disk is answered EVENTS_NOT_STORED (the others, PING included, are "
        "answered as usual); the events wait in memory, in order and unseen, and are stored within 2 s of there "
        "being room again",
        "nothing: every event of every command, success or not, is stored once there is room (up to 100 000 "
        "held; past that, new ones are refused and their commands told so)",
    ),
    Case(
        "fault.read-only",
        FAULTS,
        "The data directory read-only (a tmpfs remounted ro)",
        nodes(
            "test_faults::test_a_read_only_data_dir_is_refused_at_start_with_a_clear_message",
        ),
        "BACKEND_ERROR on the first stderr line naming the file and 'Read-only file system'; exit status 1",
        "nothing: not a byte written",
    ),
    Case(
        "fault.corrupt",
        FAULTS,
        "A corrupt database at start (text over it, cut short; studio.db and the event log)",
        nodes(
            "test_faults::test_a_corrupt_database_at_start_is_refused_clearly_and_kept",
            "test_faults::test_a_damaged_page_inside_a_database_is_found_at_start_and_the_file_kept",
            "tests/test_closemark.py",
        ),
        "BACKEND_ERROR naming the file: 'is not a usable SQLite database: ...'; exit 1. Damage inside a page "
        "(the header whole) is found at start too, by SQLite's quick_check: '... it is damaged (Page 4: ...)'. "
        "The one exception: a file the last run closed cleanly and nothing changed since (same inode, size and "
        "mtime, no WAL) is not read again, so damage the disk itself made meanwhile is met by the first command "
        "that reads the page (DATABASE_DAMAGED naming the file); the start after that run checks in full",
        "nothing more: the file is kept as it is, never overwritten",
    ),
    Case(
        "fault.two-backends",
        FAULTS,
        "Two backends on one data dir (serve + stdio, and overlapping app sets)",
        nodes(
            "test_faults::test_a_second_backend_on_a_data_dir_in_use_refuses_whatever_the_doors_and_apps",
            "tests/transports/test_stdio.py::TestReady::test_a_second_backend_on_the_same_data_dir_refuses_clearly",
        ),
        "the second: BACKEND_ERROR '<dir> is in use by pid N', exit 1; the first serves on",
        "nothing",
    ),
    Case(
        "fault.clock",
        FAULTS,
        "Clock jumps during guardian accounting (any sequence of play, sleep and clock changes)",
        nodes(
            "test_faults::test_clock_jumps_during_accounting_neither_grant_nor_steal_time",
            "tests/guardian/test_timeline.py",
            "tests/guardian/test_usage.py::test_moving_the_clock_to_tomorrow_grants_no_fresh_day",
            "tests/guardian/test_usage.py::test_moving_the_clock_back_steals_nothing_and_grants_nothing",
        ),
        "a clock_changed notification per jump; the day and the minutes left do not move",
        "no play time granted or stolen (at most one poll per sleep)",
    ),
    # -- Hostile local load ------------------------------------------------------------------------
    Case(
        "load.half-requests",
        LOAD,
        "400 connections send half a request head (20 more half a body) and stop, against a server allowed 256 "
        "descriptors",
        nodes(
            "test_hostile_load::test_half_sent_requests_cannot_starve_the_server_of_descriptors",
        ),
        "a client that sends its request at once is served at once: near the descriptor limit each new "
        "connection closes the one that waited longest for a head; a head or body that stops coming is closed "
        "after 5 s",
        "nothing: no request was read",
    ),
    Case(
        "load.operations",
        LOAD,
        "Thousands of operations finishing, cancelled or shut down together",
        nodes(
            "tests/test_operations.py::test_finishing_n_operations_costs_n_not_n_squared",
        ),
        "four times as many cost about four times as much (not sixteen): stdin EOF with 10 000 running stops "
        "in well under the documented 2 s",
        "—",
    ),
    Case(
        "load.stdio-unread",
        LOAD,
        "A stdio front end that stops reading while 1000 operations report (a frozen or stopped window)",
        nodes(
            "test_hostile_load::test_a_stdout_nobody_reads_holds_a_bounded_backlog_and_loses_nothing",
        ),
        "the backend's memory stays put: past outbox_bytes waiting for the pipe, events are left in the log and "
        "read back a page at a time as it drains; then every event arrives once, in order",
        "nothing",
    ),
    Case(
        "load.restored-log",
        LOAD,
        "The event log loses its last commits: a backup of the data dir restored, a power cut, a client "
        "ahead of the log",
        nodes(
            "test_hostile_load::test_a_restored_data_dir_never_tells_a_client_it_missed_nothing",
            "tests/test_events.py::test_a_log_left_open_across_a_restart_of_the_machine_starts_a_new_epoch",
            "tests/test_events.py::test_a_client_ahead_of_the_log_starts_a_new_epoch_for_every_client",
        ),
        "a new epoch: a client resuming from a seq the log may have reused gets recovered: false and reloads, "
        "never events under numbers it already saw; a kill -9 keeps the epoch",
        "what the power cut or the restore took; nothing is shown as recovered that was not",
    ),
    Case(
        "load.long-polls",
        LOAD,
        "Long-polls that time out on a quiet log",
        nodes(
            "tests/test_events.py::test_a_wait_that_ends_unanswered_leaves_nothing_behind",
        ),
        "each wait leaves when it ends, however it ends: memory stays put",
        "—",
    ),
    Case(
        "load.lock",
        LOAD,
        "The data dir's .lock deleted under a running backend, then a second backend started; another writer "
        "in the event log",
        nodes(
            "test_hostile_load::test_deleting_the_lock_file_lets_no_second_backend_in",
            "test_hostile_load::test_a_seq_clash_in_the_log_is_reported_as_such_never_as_a_full_disk",
        ),
        "the second backend: BACKEND_ERROR '<dir> is in use by ...', exit 1 (the directory itself is locked); "
        "a seq clash is EVENTS_NOT_STORED naming the constraint, never 'room on the disk'",
        "nothing",
    ),
    Case(
        "load.emit",
        LOAD,
        "diag EMIT of 100 000 events (dev.py run serves diag)",
        nodes(
            "test_hostile_load::test_a_huge_emit_goes_out_in_bursts_instead_of_all_in_memory",
        ),
        "the events go out 1000 per turn of the loop, each burst committed and delivered: other commands are "
        "served meanwhile and the peak memory grows by a fraction of the burst",
        "nothing",
    ),
    Case(
        "load.pollers",
        LOAD,
        "Polling clients that leave, thousands of polling client_ids, a client polling and on a WebSocket",
        nodes(
            "test_hostile_load::"
            "test_the_status_lists_each_kind_of_connection_of_a_client_on_its_own_and_forgets_pollers_by_time",
            "tests/test_clients.py",
        ),
        "a client that stopped polling is unlisted poll_idle (60 s) later by time, whoever else polls; at most "
        "1000 polling clients are listed, the longest silent forgotten first; forgetting a poller leaves the same "
        "client's WebSocket listed",
        "—",
    ),
    Case(
        "load.big-answers",
        LOAD,
        "One answer bigger than a WebSocket's outbound queue (GET_EVENTS of 5000 events, twice, against 256 KiB)",
        nodes(
            "tests/transports/test_web_events.py::"
            "test_an_answer_bigger_than_the_outbox_reaches_a_reading_client_on_the_same_connection",
        ),
        "the answers arrive whole on the same connection (they closed it 4008 'too slow', and the client retried "
        "into the same wall); the door stops reading commands past half the queue or 256 unanswered instead",
        "nothing",
    ),
    Case(
        "load.close-reasons",
        LOAD,
        "WebSocket refusals longer than a close frame holds (a 200-character path, a 4300-digit cursor)",
        nodes(
            "test_hostile_load::test_a_refusal_longer_than_a_close_frame_still_sends_its_code",
        ),
        "close 4400 (do not retry) with the reason cut to 123 bytes; no traceback (it was 1006: retry forever)",
        "—",
    ),
    Case(
        "load.retention",
        LOAD,
        "Many operations finishing under a count limit; thousands of client ids acknowledging",
        nodes(
            "tests/test_events.py::test_max_count_caps_the_log_however_many_operations_finish",
            "tests/test_events.py::test_only_the_consumers_heard_from_last_hold_trimming_back",
        ),
        "max_count caps the log: terminal events outlive the age limit, not the count; only the 1000 consumers "
        "heard from last hold trimming back (a program inventing client ids cannot hold it for a week)",
        "the oldest terminal events past max_count (a client resuming from before them gets recovered: false)",
    ),
    # -- Soak --------------------------------------------------------------------------------------
    Case(
        "soak",
        SOAK,
        "Mixed commands and operations, reconnecting WebSocket and polling clients, games starting and "
        "stopping (`deskbridge serve diag guardian`)",
        nodes(
            "test_soak::test_a_soak_of_mixed_traffic_keeps_memory_and_descriptors_flat_and_every_event_exactly_once",
        ),
        "every event exactly once per client, in order; every operation ends once; every game start seen",
        "nothing",
    ),
    # -- Security ----------------------------------------------------------------------------------
    Case(
        "security.access",
        SECURITY,
        "Foreign Origin and Host, missing or wrong token: every HTTP route and both WebSocket paths",
        nodes(
            "test_security::test_every_route_and_door_refuses_a_missing_token_a_foreign_origin_and_a_rebound_host",
            "test_security::test_the_dashboards_files_need_no_token_but_still_a_right_host_and_origin",
            "tests/transports/test_web_security.py",
        ),
        "401 / 403 / 421 / 400 (WebSocket 4401 / 4403 / 4421 / 4400) with an error_code; no token echoed",
        "—",
    ),
    Case(
        "security.token-logs",
        SECURITY,
        "The token never in logs or error messages (DEBUG logs, tokens in URLs and headers)",
        nodes(
            "test_security::test_the_token_never_reaches_the_log_even_at_debug_with_tokens_in_urls",
            "tests/test_logs.py::test_a_token_under_a_percent_encoded_name_is_masked_too",
            "test_regressions::test_an_authorization_header_of_any_scheme_is_masked_in_the_log",
            "tests/test_logs.py::test_secrets_are_masked",
        ),
        "tokens, JWTs and cookies masked as ***, also under a percent-encoded name (?t%6Fken=, a refused ?token%3D)"
        " and in uvicorn's own lines; the server's token wherever it appears",
        "—",
    ),
    Case(
        "security.paths",
        SECURITY,
        "Path traversal in every path-bearing field: output_dir, output_path, path, account names, clip titles",
        nodes(
            "test_security::test_no_clip_title_names_a_file_outside_output_dir",
            "test_security::test_a_relative_path_is_refused_before_anything_is_written",
            "test_security::test_an_account_name_with_path_tricks_is_refused_by_every_command",
            "test_security::test_links_planted_in_the_output_folder_are_never_written_through",
            "tests/studio/test_hostile_input.py::test_names_with_path_tricks_are_refused_before_they_reach_the_disk",
            "tests/studio/test_hostile_input.py::test_a_path_the_system_refuses_is_invalid_payload_naming_the_field",
            "tests/studio/downloads/test_download_commands.py::test_files_stay_inside_output_dir",
        ),
        "INVALID_PAYLOAD naming the field before anything is written, for a path the system would refuse too (a name"
        " over 255 bytes, a path over its limit); titles become safe file names inside output_dir",
        "—",
    ),
    Case(
        "security.links",
        SECURITY,
        "Symbolic links planted in the data dir (token, lock, the dir itself, profiles)",
        nodes(
            "test_security::test_a_token_file_that_is_a_link_is_refused_and_its_target_left_alone",
            "test_security::test_a_lock_file_that_is_a_link_is_refused_and_its_target_left_alone",
            "test_security::test_a_data_dir_that_is_a_link_is_followed_as_the_users_choice",
            "tests/studio/library/test_accounts.py::"
            "test_delete_keeps_the_profile_unless_asked_and_never_touches_anything_outside",
        ),
        "a linked .lock or token file: BACKEND_ERROR naming it, its target untouched; a linked data dir is "
        "followed (the user's choice)",
        "—",
    ),
    Case(
        "security.oversized",
        SECURITY,
        "Oversized and deeply nested bodies and messages on every door",
        nodes(
            "test_security::test_a_deeply_nested_message_is_refused_on_http_and_websocket_and_both_go_on",
            "test_security::test_a_deeply_nested_body_to_an_app_endpoint_is_a_400",
            "test_security::test_a_body_over_the_line_limit_to_an_app_endpoint_is_a_413",
            "test_security::test_an_oversized_request_head_is_refused_and_the_server_goes_on",
            "test_security::test_an_oversized_websocket_message_closes_only_that_connection",
            "tests/transports/test_stdio.py::test_an_oversized_line_is_refused_without_holding_it_in_memory",
            "tests/transports/test_web_commands.py::test_http_command_and_error_statuses",
            "tests/transports/test_web_commands.py::test_websocket_commands_and_malformed_messages",
        ),
        "MESSAGE_TOO_LARGE / 413 / close 1009, PARSE_ERROR for nesting, 431 / 414 for an oversized request head;"
        " the door goes on",
        "—",
    ),
    # -- Fixed findings (regressions) --------------------------------------------------------------
    Case(
        "fixed",
        FIXED,
        "Bugs this suite found and the core fixed, each pinned by its input",
        nodes(
            "test_regressions::test_parse_command_answers_a_hostile_line_instead_of_raising",
            "test_regressions::test_the_router_answers_a_hostile_line_instead_of_raising",
            "test_regressions::test_a_hostile_line_on_stdio_is_answered_and_the_backend_goes_on",
            "test_regressions::test_a_null_device_as_stdin_or_stdout_is_served_not_aborted",
        ),
        "see the findings below",
        "—",
    ),
)
