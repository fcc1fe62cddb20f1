"""The studio database's schema, one migration per ``PRAGMA user_version``.

Records that belong to an account (queues, download history) name it by its
``name`` with ``ON UPDATE CASCADE``, so a rename rewrites them in the same
transaction. Prompts point at the queue that reserved them with ``ON DELETE SET
NULL``: removing a queue hands its unused prompts back to the library. Creation
history outlives the accounts it names, so it has no foreign key.

Migration 3 (downloads in every format): a download is one file of one
format, so the history's key gains ``format`` (earlier entries are MP3s),
and ``unlocked_clips`` remembers the clips the studio had Suno unlock, so
that a run killed between the authorization and the file never pays again.
"""

from __future__ import annotations

from typing import Final

MIGRATIONS: Final = [
    """
    CREATE TABLE accounts (
        name TEXT PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        email TEXT,
        created_at TEXT NOT NULL,
        last_used TEXT
    );

    CREATE TABLE profile_moves (
        source TEXT NOT NULL,
        target TEXT NOT NULL
    );

    CREATE TABLE queues (
        id TEXT PRIMARY KEY,
        account_name TEXT NOT NULL REFERENCES accounts(name) ON UPDATE CASCADE ON DELETE CASCADE,
        total_songs INTEGER NOT NULL,
        songs_per_batch INTEGER NOT NULL,
        completed_count INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX queues_by_account ON queues(account_name);

    CREATE TABLE prompts (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        lyrics TEXT NOT NULL,
        style TEXT NOT NULL,
        tags TEXT NOT NULL,
        created_at TEXT NOT NULL,
        queue_id TEXT REFERENCES queues(id) ON DELETE SET NULL,
        position INTEGER,
        used_at TEXT
    );
    CREATE INDEX prompts_by_queue ON prompts(queue_id, position);
    CREATE INDEX prompts_available ON prompts(id) WHERE queue_id IS NULL AND used_at IS NULL;

    CREATE TABLE creation_records (
        id INTEGER PRIMARY KEY,
        song_id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        prompt_index INTEGER NOT NULL,
        account_name TEXT NOT NULL,
        account_key TEXT NOT NULL,
        status TEXT NOT NULL,
        lyrics TEXT NOT NULL,
        style TEXT NOT NULL,
        tags TEXT NOT NULL,
        queue_id TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX creation_by_time ON creation_records(created_at, id);
    CREATE INDEX creation_by_account ON creation_records(account_key, created_at, id);

    CREATE VIRTUAL TABLE creation_search USING fts5(
        title, lyrics, style, tags,
        content='creation_records', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER creation_search_insert AFTER INSERT ON creation_records BEGIN
        INSERT INTO creation_search(rowid, title, lyrics, style, tags)
        VALUES (new.id, new.title, new.lyrics, new.style, new.tags);
    END;
    CREATE TRIGGER creation_search_delete AFTER DELETE ON creation_records BEGIN
        INSERT INTO creation_search(creation_search, rowid, title, lyrics, style, tags)
        VALUES ('delete', old.id, old.title, old.lyrics, old.style, old.tags);
    END;
    CREATE TRIGGER creation_search_update AFTER UPDATE ON creation_records BEGIN
        INSERT INTO creation_search(creation_search, rowid, title, lyrics, style, tags)
        VALUES ('delete', old.id, old.title, old.lyrics, old.style, old.tags);
        INSERT INTO creation_search(rowid, title, lyrics, style, tags)
        VALUES (new.id, new.title, new.lyrics, new.style, new.tags);
    END;

    CREATE TABLE downloads (
        account_name TEXT NOT NULL REFERENCES accounts(name) ON UPDATE CASCADE ON DELETE CASCADE,
        clip_id TEXT NOT NULL,
        title TEXT NOT NULL,
        file_path TEXT,
        downloaded_at TEXT NOT NULL,
        PRIMARY KEY (account_name, clip_id)
    );
    CREATE INDEX downloads_by_time ON downloads(account_name, downloaded_at);
    """,
    # Queues name the Suno workspace their songs are filed in (None: the account's current one).
    """
    ALTER TABLE queues ADD COLUMN workspace TEXT;
    """,
    # Downloads in every format: an entry is one file; the clips the studio had Suno unlock are remembered.
    """
    CREATE TABLE downloads_by_format (
        account_name TEXT NOT NULL REFERENCES accounts(name) ON UPDATE CASCADE ON DELETE CASCADE,
        clip_id TEXT NOT NULL,
        format TEXT NOT NULL DEFAULT 'mp3',
        title TEXT NOT NULL,
        file_path TEXT,
        downloaded_at TEXT NOT NULL,
        PRIMARY KEY (account_name, clip_id, format)
    );
    INSERT INTO downloads_by_format (account_name, clip_id, format, title, file_path, downloaded_at)
        SELECT account_name, clip_id, 'mp3', title, file_path, downloaded_at FROM downloads ORDER BY rowid;
    DROP TABLE downloads;
    ALTER TABLE downloads_by_format RENAME TO downloads;
    CREATE INDEX downloads_by_time ON downloads(account_name, downloaded_at);

    CREATE TABLE unlocked_clips (
        account_name TEXT NOT NULL REFERENCES accounts(name) ON UPDATE CASCADE ON DELETE CASCADE,
        clip_id TEXT NOT NULL,
        unlocked_at TEXT NOT NULL,
        PRIMARY KEY (account_name, clip_id)
    );
    """,
    # A status filter finds the few records not completed by index instead of looking through every record
    # (~0.3 s at 10^6); partial, so the completed records, nearly all of them, cost these indexes nothing.
    """
    CREATE INDEX creation_unfinished ON creation_records(status, created_at, id) WHERE status <> 'completed';
    CREATE INDEX creation_unfinished_by_account ON creation_records(status, account_key, created_at, id)
        WHERE status <> 'completed';
    """,
]
