"""The SQLite database: connections, transactions and the schema.

One file, ``<data_dir>/authupload.db``, shared by every thread and by every
server process that uses the same data directory. Three settings make that safe:

- ``journal_mode=WAL``: readers never block the writer and vice versa;
- ``busy_timeout``: a writer waits for another writer instead of failing;
- ``BEGIN IMMEDIATE`` for every read-then-write transaction: it takes the write
  lock *before* reading, so two requests can never both read "name is free" and
  both insert. (A plain ``BEGIN`` would take the lock only at the first write and,
  under WAL, fail at once with "database is locked" instead of waiting.)

Each thread keeps one connection (``sqlite3`` connections must not be shared
across threads), in autocommit mode (``isolation_level=None``) so that the
transactions are exactly the ones written with ``transaction()``.

The schema is a list of migrations; ``PRAGMA user_version`` records how many
have run, so an old database is upgraded in place at start.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000  # how long a writer waits for another process's write lock


def _file_name_keys(connection: sqlite3.Connection) -> None:
    connection.execute("ALTER TABLE files ADD COLUMN name_key TEXT NOT NULL DEFAULT ''")
    names = connection.execute("SELECT id, name FROM files").fetchall()
    connection.executemany("UPDATE files SET name_key = ? WHERE id = ?",
                           ((name.casefold(), file_id) for file_id, name in names))  # as storage.name_key
    for statement in _statements("""
        DROP INDEX files_by_name;
        DROP INDEX files_in_folder_by_name;
        CREATE INDEX files_by_name ON files (user_id, name_key) WHERE trashed_at IS NULL;
        CREATE INDEX files_in_folder_by_name ON files (user_id, folder_id, name_key) WHERE trashed_at IS NULL;
    """):
        connection.execute(statement)


MIGRATIONS = [
    # 1: accounts, tokens and throttling
    """
    CREATE TABLE users (
        id             INTEGER PRIMARY KEY,
        username       TEXT NOT NULL,                -- as the user typed it
        username_key   TEXT NOT NULL UNIQUE,         -- ASCII-lowercased: the UNIQUE makes racing registrations safe
        password_hash  TEXT NOT NULL,
        token_version  INTEGER NOT NULL DEFAULT 0,   -- +1 on password change: older tokens and links die
        created_at     REAL NOT NULL
    );
    CREATE TABLE revoked_tokens (
        jti         TEXT PRIMARY KEY,
        expires_at  REAL NOT NULL                    -- after this the token is dead anyway, so the row can go
    );
    CREATE TABLE login_failures (
        scope  TEXT NOT NULL,                        -- 'username' or 'address'
        key    TEXT NOT NULL,
        at     REAL NOT NULL
    );
    CREATE INDEX login_failures_by_key ON login_failures (scope, key, at);
    """,
    # 2: stored files and resumable uploads
    """
    CREATE TABLE files (
        id            TEXT PRIMARY KEY,              -- random, also the name on disk
        user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name          TEXT NOT NULL,                 -- the cleaned client name: display only
        size          INTEGER NOT NULL,
        sha256        TEXT NOT NULL,
        content_type  TEXT NOT NULL,
        uploaded_at   REAL NOT NULL
    );
    CREATE INDEX files_by_user ON files (user_id, uploaded_at DESC, id);
    CREATE TABLE uploads (
        id            TEXT PRIMARY KEY,              -- random, also the name of the partial file
        user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        length        INTEGER NOT NULL,              -- Upload-Length: reserved against the quota
        offset        INTEGER NOT NULL DEFAULT 0,    -- bytes stored so far
        metadata      TEXT NOT NULL,                 -- Upload-Metadata as received, echoed by HEAD
        name          TEXT NOT NULL,
        content_type  TEXT NOT NULL,
        created_at    REAL NOT NULL,
        expires_at    REAL NOT NULL,
        file_id       TEXT                           -- set once complete
    );
    CREATE INDEX uploads_by_user ON uploads (user_id);
    CREATE INDEX uploads_by_expiry ON uploads (expires_at);
    """,
    # 3: usage counters kept by triggers (so /api/me does not sum 100 000 rows),
    #    and an index that serves "newest first" pages straight from its order
    """
    ALTER TABLE users ADD COLUMN file_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN file_bytes INTEGER NOT NULL DEFAULT 0;
    UPDATE users SET
        file_count = (SELECT count(*) FROM files WHERE files.user_id = users.id),
        file_bytes = (SELECT coalesce(sum(size), 0) FROM files WHERE files.user_id = users.id);
    -- Triggers run inside the statement that fires them: the counters can never
    -- disagree with the rows, whatever code (or backup tool) inserts or deletes.
    CREATE TRIGGER files_count_insert AFTER INSERT ON files BEGIN
        UPDATE users SET file_count = file_count + 1, file_bytes = file_bytes + NEW.size
        WHERE id = NEW.user_id;
    END;
    CREATE TRIGGER files_count_delete AFTER DELETE ON files BEGIN
        UPDATE users SET file_count = file_count - 1, file_bytes = file_bytes - OLD.size
        WHERE id = OLD.user_id;
    END;
    -- (user_id, uploaded_at) plus the implicit rowid, read backwards, is exactly
    -- "this user's files, newest first, ties by insertion order".
    DROP INDEX files_by_user;
    CREATE INDEX files_newest_first ON files (user_id, uploaded_at);
    """,
    # 4: the audit log: who did what, when, from where (never a secret)
    """
    CREATE TABLE events (
        id        INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused, so "newest first" is "id DESC"
        at        REAL NOT NULL,
        type      TEXT NOT NULL,                     -- 'login', 'login_failed', 'share_created', … (API.md)
        user_id   INTEGER,                           -- the account it concerns; kept after that account is deleted
        username  TEXT NOT NULL DEFAULT '',          -- as it was then, so the log still reads after a rename or deletion
        actor     TEXT NOT NULL,                     -- 'self', 'admin:<id>', 'cli', 'anonymous', 'system'
        address   TEXT NOT NULL DEFAULT '',          -- client address, '' when there is none (the command line)
        detail    TEXT NOT NULL DEFAULT '{}'         -- small JSON object: names and ids, never a password, token or code
    );
    CREATE INDEX events_by_user ON events (user_id, id);
    CREATE INDEX events_by_type ON events (type, id);
    CREATE INDEX events_by_time ON events (at);
    """,
    # 5: user ids are never reused, and every account has a random key that its
    #    tokens carry. A plain INTEGER PRIMARY KEY is the rowid, which SQLite hands
    #    out again once the highest row is deleted; AUTOINCREMENT never does
    #    (sqlite.org/autoinc.html). But a restored backup brings back an older
    #    sqlite_sequence too, so the id alone cannot tell a new account from the
    #    one a token was issued for: account_key can, and tokens.py checks it.
    #    SQLite cannot add AUTOINCREMENT to a table, so users is rebuilt
    #    (sqlite.org/lang_altertable.html §7: new table, copy, drop, rename), with
    #    foreign keys off meanwhile (Database._migrate) so the drop does not
    #    cascade into files and uploads. The triggers on files name users: the
    #    legacy rename leaves them as they are instead of refusing to rename
    #    while they point at a table that is, for a moment, missing.
    """
    CREATE TABLE users_rebuilt (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        username       TEXT NOT NULL,
        username_key   TEXT NOT NULL UNIQUE,
        password_hash  TEXT NOT NULL,
        token_version  INTEGER NOT NULL DEFAULT 0,
        created_at     REAL NOT NULL,
        file_count     INTEGER NOT NULL DEFAULT 0,
        file_bytes     INTEGER NOT NULL DEFAULT 0,
        account_key    TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(16))))  -- in every token: 128 random bits
    );
    INSERT INTO users_rebuilt (id, username, username_key, password_hash, token_version, created_at,
                               file_count, file_bytes)
        SELECT id, username, username_key, password_hash, token_version, created_at, file_count, file_bytes
        FROM users;
    DROP TABLE users;
    PRAGMA legacy_alter_table = ON;
    ALTER TABLE users_rebuilt RENAME TO users;
    PRAGMA legacy_alter_table = OFF;
    """,
    # 6: registrations per client address (accounts/throttle.py RegistrationThrottle)
    """
    CREATE TABLE registration_attempts (
        address  TEXT NOT NULL,                      -- the client address that asked
        at       REAL NOT NULL                       -- rows older than the hour window are removed
    );
    CREATE INDEX registration_attempts_by_address ON registration_attempts (address, at);
    """,
    # 7: operators: roles, disabled accounts, per-user quota, last login; invites
    """
    ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;      -- 1: may use /api/admin/
    ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;   -- 1: no login, every token refused
    ALTER TABLE users ADD COLUMN quota_bytes INTEGER;                   -- NULL: the server's --quota-bytes
    ALTER TABLE users ADD COLUMN last_login_at REAL;                    -- NULL: never logged in
    -- "Is there another enabled admin?" is asked on every demotion, disabling and
    -- deletion: a partial index holds only the few rows that answer it.
    CREATE INDEX users_enabled_admins ON users (id) WHERE admin = 1 AND disabled = 0;
    CREATE TABLE invites (
        id           INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a revoked invite's code stays dead
        uses_left    INTEGER NOT NULL,                  -- registrations it may still make
        expires_at   REAL NOT NULL,
        quota_bytes  INTEGER,                           -- given to the accounts it creates; NULL: server default
        created_at   REAL NOT NULL,
        created_by   TEXT NOT NULL                      -- the admin's username, or 'cli'
    );
    -- The admin's "name contains" search: a trigram index (FTS5) over the
    -- lowercased names finds a substring without reading every account.
    -- External content: it stores the index only, and triggers keep it in step.
    CREATE VIRTUAL TABLE user_names USING fts5 (
        username_key, content = 'users', content_rowid = 'id', tokenize = 'trigram'
    );
    INSERT INTO user_names (user_names) VALUES ('rebuild');
    CREATE TRIGGER user_names_insert AFTER INSERT ON users BEGIN
        INSERT INTO user_names (rowid, username_key) VALUES (NEW.id, NEW.username_key);
    END;
    CREATE TRIGGER user_names_delete AFTER DELETE ON users BEGIN
        INSERT INTO user_names (user_names, rowid, username_key) VALUES ('delete', OLD.id, OLD.username_key);
    END;
    """,
    # 8: account security: sessions you can see and end, two-factor sign-in, recovery codes.
    #    Logout now ends a whole session, so the list of revoked token ids goes.
    """
    CREATE TABLE sessions (
        id            TEXT PRIMARY KEY,              -- random, never reused: the tokens' "sid" claim
        user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at    REAL NOT NULL,                 -- the login that began it (the 7-day limit counts from here)
        last_seen_at  REAL NOT NULL,                 -- written at most once a minute, so requests stay read-only
        address       TEXT NOT NULL,                 -- client address at login
        user_agent    TEXT NOT NULL                  -- User-Agent at login, cut to 200 characters
    );
    CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
    ALTER TABLE users ADD COLUMN totp_secret TEXT;   -- TOTP secret from setup, sealed with the signing key; or NULL
    ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;   -- 1 once a first code confirmed it
    ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0; -- newest 30-s step used: no code twice
    CREATE TABLE recovery_codes (
        user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        code_hash  TEXT NOT NULL,                    -- SHA-256 of an 80-bit random code; the row goes when used
        PRIMARY KEY (user_id, code_hash)
    ) WITHOUT ROWID;
    DROP TABLE revoked_tokens;
    """,
    # 9: "my activity" pages through events_by_user and says how many there are in all:
    #    a counter kept by triggers answers that without counting 10 000 rows per page.
    """
    ALTER TABLE users ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0;
    UPDATE users SET event_count = (SELECT count(*) FROM events WHERE events.user_id = users.id);
    CREATE TRIGGER events_count_insert AFTER INSERT ON events BEGIN
        UPDATE users SET event_count = event_count + 1 WHERE id = NEW.user_id;
    END;
    CREATE TRIGGER events_count_delete AFTER DELETE ON events BEGIN
        UPDATE users SET event_count = event_count - 1 WHERE id = OLD.user_id;
    END;
    """,
    # 10: folders (a tree by parent pointer), files in folders, and the trash
    """
    CREATE TABLE folders (
        id            TEXT PRIMARY KEY,              -- random, like file ids
        user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        parent_id     TEXT REFERENCES folders (id) ON DELETE SET NULL, -- NULL: the top level
        name          TEXT NOT NULL,                 -- cleaned like a file name, shown as given
        name_key      TEXT NOT NULL,                 -- casefolded name: siblings are unique in any letter case
        created_at    REAL NOT NULL,
        trashed_at    REAL,                          -- NULL: live; else when it went to the trash
        trashed_with  TEXT,                          -- the deleted folder that took it along; NULL: a trash item itself
        trash_path    TEXT,                          -- JSON list of the names above it when deleted: restore recreates them
        file_count    INTEGER NOT NULL DEFAULT 0     -- live files directly inside, kept by triggers: a listing's total
    );
    -- A folder moves by changing one parent_id, whatever it holds: nothing below
    -- it stores a path. The UNIQUE index makes two racing "create photos" safe.
    CREATE UNIQUE INDEX folders_sibling_names ON folders (user_id, ifnull(parent_id, ''), name_key)
        WHERE trashed_at IS NULL;
    CREATE INDEX folders_by_parent ON folders (parent_id);
    CREATE INDEX folders_in_trash ON folders (user_id, trashed_at) WHERE trashed_at IS NOT NULL;
    CREATE INDEX folders_trashed_with ON folders (trashed_with) WHERE trashed_with IS NOT NULL;
    ALTER TABLE files ADD COLUMN folder_id TEXT REFERENCES folders (id) ON DELETE SET NULL;
    ALTER TABLE files ADD COLUMN trashed_at REAL;
    ALTER TABLE files ADD COLUMN trashed_with TEXT;
    ALTER TABLE files ADD COLUMN trash_path TEXT;
    ALTER TABLE uploads ADD COLUMN folder_id TEXT REFERENCES folders (id) ON DELETE SET NULL;
    ALTER TABLE uploads ADD COLUMN folder_path TEXT NOT NULL DEFAULT '';  -- cleaned relativePath folders, '/'-joined
    ALTER TABLE users ADD COLUMN trash_files INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN trash_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN top_files INTEGER NOT NULL DEFAULT 0;  -- live files at the top level
    UPDATE users SET top_files = (SELECT count(*) FROM files WHERE files.user_id = users.id);
    -- The counters now split live files from the trash; the quota bounds both.
    DROP TRIGGER files_count_insert;
    DROP TRIGGER files_count_delete;
    CREATE TRIGGER files_count_insert AFTER INSERT ON files BEGIN
        UPDATE users SET
            file_count = file_count + (NEW.trashed_at IS NULL),
            file_bytes = file_bytes + iif(NEW.trashed_at IS NULL, NEW.size, 0),
            trash_files = trash_files + (NEW.trashed_at IS NOT NULL),
            trash_bytes = trash_bytes + iif(NEW.trashed_at IS NOT NULL, NEW.size, 0)
        WHERE id = NEW.user_id;
    END;
    CREATE TRIGGER files_count_delete AFTER DELETE ON files BEGIN
        UPDATE users SET
            file_count = file_count - (OLD.trashed_at IS NULL),
            file_bytes = file_bytes - iif(OLD.trashed_at IS NULL, OLD.size, 0),
            trash_files = trash_files - (OLD.trashed_at IS NOT NULL),
            trash_bytes = trash_bytes - iif(OLD.trashed_at IS NOT NULL, OLD.size, 0)
        WHERE id = OLD.user_id;
    END;
    CREATE TRIGGER files_count_trash AFTER UPDATE OF trashed_at ON files
        WHEN (OLD.trashed_at IS NULL) != (NEW.trashed_at IS NULL) BEGIN
        UPDATE users SET
            file_count = file_count + iif(NEW.trashed_at IS NULL, 1, -1),
            file_bytes = file_bytes + iif(NEW.trashed_at IS NULL, NEW.size, -NEW.size),
            trash_files = trash_files + iif(NEW.trashed_at IS NULL, -1, 1),
            trash_bytes = trash_bytes + iif(NEW.trashed_at IS NULL, -NEW.size, NEW.size)
        WHERE id = NEW.user_id;
    END;
    -- How many live files each folder (and the top level) holds directly, so a
    -- listing's total costs the same for 10 files as for 10 000.
    CREATE TRIGGER files_place_insert AFTER INSERT ON files WHEN NEW.trashed_at IS NULL BEGIN
        UPDATE folders SET file_count = file_count + 1 WHERE id = NEW.folder_id;
        UPDATE users SET top_files = top_files + 1 WHERE id = NEW.user_id AND NEW.folder_id IS NULL;
    END;
    CREATE TRIGGER files_place_delete AFTER DELETE ON files WHEN OLD.trashed_at IS NULL BEGIN
        UPDATE folders SET file_count = file_count - 1 WHERE id = OLD.folder_id;
        UPDATE users SET top_files = top_files - 1 WHERE id = OLD.user_id AND OLD.folder_id IS NULL;
    END;
    CREATE TRIGGER files_place_update AFTER UPDATE OF folder_id, trashed_at ON files BEGIN
        UPDATE folders SET file_count = file_count - 1 WHERE id = OLD.folder_id AND OLD.trashed_at IS NULL;
        UPDATE users SET top_files = top_files - 1
            WHERE id = OLD.user_id AND OLD.folder_id IS NULL AND OLD.trashed_at IS NULL;
        UPDATE folders SET file_count = file_count + 1 WHERE id = NEW.folder_id AND NEW.trashed_at IS NULL;
        UPDATE users SET top_files = top_files + 1
            WHERE id = NEW.user_id AND NEW.folder_id IS NULL AND NEW.trashed_at IS NULL;
    END;
    -- Listing indexes hold live files only, one per sort key, for everything and
    -- per folder: a page is a range of one index, and a cursor starts it at its
    -- key (keyset paging), so the last page costs what the first does.
    DROP INDEX files_newest_first;
    CREATE INDEX files_by_date ON files (user_id, uploaded_at) WHERE trashed_at IS NULL;
    CREATE INDEX files_by_size ON files (user_id, size) WHERE trashed_at IS NULL;
    CREATE INDEX files_by_name ON files (user_id, name COLLATE NOCASE) WHERE trashed_at IS NULL;
    CREATE INDEX files_in_folder_by_date ON files (user_id, folder_id, uploaded_at) WHERE trashed_at IS NULL;
    CREATE INDEX files_in_folder_by_size ON files (user_id, folder_id, size) WHERE trashed_at IS NULL;
    CREATE INDEX files_in_folder_by_name ON files (user_id, folder_id, name COLLATE NOCASE) WHERE trashed_at IS NULL;
    CREATE INDEX files_by_folder ON files (folder_id);  -- for ON DELETE SET NULL when a folder is purged
    CREATE INDEX files_in_trash ON files (user_id, trashed_at) WHERE trashed_at IS NOT NULL;
    CREATE INDEX files_trashed_with ON files (trashed_with) WHERE trashed_with IS NOT NULL;
    -- A ZIP download link names one of these: a selection too long for a URL.
    CREATE TABLE archives (
        id          TEXT PRIMARY KEY,                -- random; the link's token names it
        user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        file_ids    TEXT NOT NULL,                   -- JSON list of the chosen files
        folder_ids  TEXT NOT NULL,                   -- JSON list of the chosen folders
        expires_at  REAL NOT NULL                    -- with the link; later requests remove it
    );
    CREATE INDEX archives_by_expiry ON archives (expires_at);
    """,
    # 11: shares and upload requests (authupload/sharing/): links for people without an account.
    #    A link's token is derived from the row's id with a key kept outside the
    #    database (sharing/links.py), so no column here holds a token.
    """
    CREATE TABLE shares (
        id             TEXT PRIMARY KEY,              -- random; the link's token is an HMAC of it
        user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        note           TEXT NOT NULL DEFAULT '',
        password_hash  TEXT,                          -- NULL: no password
        max_downloads  INTEGER,                       -- NULL: no limit
        downloads      INTEGER NOT NULL DEFAULT 0,    -- completed downloads (last byte sent)
        created_at     REAL NOT NULL,
        expires_at     REAL NOT NULL,
        -- The last line of defence for "never more than max_downloads": a counting
        -- UPDATE that would pass it fails instead of storing it.
        CHECK (max_downloads IS NULL OR downloads <= max_downloads)
    );
    CREATE INDEX shares_by_user ON shares (user_id, created_at);
    CREATE TABLE share_files (
        share_id  TEXT NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
        file_id   TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,  -- a deleted file leaves its shares
        position  INTEGER NOT NULL,                   -- the order the owner chose
        PRIMARY KEY (share_id, file_id)
    );
    CREATE INDEX share_files_by_file ON share_files (file_id);
    CREATE TABLE upload_requests (
        id              TEXT PRIMARY KEY,             -- random; the link's token is an HMAC of it
        user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title           TEXT NOT NULL,
        note            TEXT NOT NULL DEFAULT '',
        password_hash   TEXT,                         -- NULL: no password
        max_files       INTEGER,                      -- NULL: no limit
        max_bytes       INTEGER,                      -- NULL: no limit (the owner's quota still bounds it)
        folder_id       TEXT,                         -- where received files go; NULL: the top level
        files_received  INTEGER NOT NULL DEFAULT 0,   -- kept by the trigger below
        bytes_received  INTEGER NOT NULL DEFAULT 0,
        created_at      REAL NOT NULL,
        expires_at      REAL NOT NULL,
        closed_at       REAL                          -- set by the owner; the link takes no more files
    );
    CREATE INDEX upload_requests_by_user ON upload_requests (user_id, created_at);
    ALTER TABLE uploads ADD COLUMN request_id TEXT;   -- a tus upload sent through a request: reserved against it too
    ALTER TABLE uploads ADD COLUMN request_title TEXT NOT NULL DEFAULT '';
    ALTER TABLE uploads ADD COLUMN uploader_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE files ADD COLUMN received_request_id TEXT;  -- NULL: the owner's own upload
    ALTER TABLE files ADD COLUMN received_request_title TEXT NOT NULL DEFAULT '';  -- titles never change
    ALTER TABLE files ADD COLUMN received_uploader_name TEXT NOT NULL DEFAULT '';
    -- Like the usage counters: the request's counts can never disagree with the
    -- files that arrived, whatever inserts them. A file deleted later still counts:
    -- max_files bounds what a sender may send, not what the owner keeps.
    CREATE TRIGGER files_received_insert AFTER INSERT ON files WHEN NEW.received_request_id IS NOT NULL BEGIN
        UPDATE upload_requests SET files_received = files_received + 1, bytes_received = bytes_received + NEW.size
        WHERE id = NEW.received_request_id;
    END;
    """,
    # 12: every file's CRC-32, computed with its sha256 while it is uploaded (files/hashing.py):
    # with it, a ZIP is only headers around files sent as they are (files/zipstream.py).
    # NULL for a file stored before: its first ZIP computes it and keeps it (files/archive.py).
    """
    ALTER TABLE files ADD COLUMN crc32 INTEGER;
    """,
    # 13: every file's name in any letter case (storage.name_key: Unicode casefolding, which
    # SQL's NOCASE and LIKE do for ASCII letters only), for search and the name sort; the
    # name indexes move onto it. Python computes the value: a migration may be a function.
    _file_name_keys,
]


class Database:
    """Per-thread connections to one SQLite file, and short transactions on them."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._migrate()

    def _migrate(self) -> None:
        """Run the migrations this file has not had yet, all in one transaction.

        Foreign keys are off meanwhile (the pragma cannot change inside a
        transaction): a migration that rebuilds a table others point to must be
        able to drop the old one without cascading (sqlite.org/foreignkeys.html
        §5). ``foreign_key_check`` then proves nothing was left dangling before
        the transaction commits.
        """
        connection = self.connection()
        connection.execute("PRAGMA foreign_keys = OFF")
        try:
            with self.transaction():
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                if version > len(MIGRATIONS):
                    # Older code must not write to a schema it does not know (a downgrade).
                    raise RuntimeError(
                        f"{self.path} has schema version {version}; this code knows up to {len(MIGRATIONS)}")
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    if callable(script):
                        script(connection)  # a migration that needs Python to compute its values
                    else:
                        for statement in _statements(script):
                            connection.execute(statement)
                    connection.execute(f"PRAGMA user_version = {number:d}")  # PRAGMA takes no parameters
                dangling = connection.execute("PRAGMA foreign_key_check").fetchone()
                if dangling is not None:
                    raise RuntimeError(f"{self.path}: a migration left a dangling reference in {dangling[0]}")
        finally:
            connection.execute("PRAGMA foreign_keys = ON")

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            connection.row_factory = sqlite3.Row
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA foreign_keys = ON")  # off by default, per connection
            self._local.connection = connection
        return connection

    @contextlib.contextmanager
    def transaction(self):
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` if the block raises."""
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def execute(self, sql: str, parameters=()) -> sqlite3.Cursor:
        """One statement outside any explicit transaction (SQLite makes it atomic by itself)."""
        return self.connection().execute(sql, parameters)


def _statements(script: str):
    """Split a SQL script into statements (``executescript`` would COMMIT our transaction)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
