-- 0002_auth_events.sql - bearer tokens (api.md §9) and the event feed (api.md §7).
--
-- A token is stored only as the hex SHA-256 of its secret: the secret itself is shown once at
-- creation and never written anywhere (the database, its WAL, the log). Revoking deletes the
-- row, so the next request with that token finds nothing. Times are unix milliseconds.

CREATE TABLE tokens (
    name TEXT PRIMARY KEY,           -- RFC 1123 label, the actor of the events it causes
    hash TEXT NOT NULL UNIQUE,       -- lowercase hex SHA-256 of the secret
    role INTEGER NOT NULL,           -- 1 reader, 2 operator, 3 admin (server/router.h)
    cluster TEXT,                    -- bound cluster; NULL: any
    expires_at INTEGER,              -- NULL: never
    created_at INTEGER NOT NULL,
    last_used_at INTEGER             -- NULL: never; updated at most once a minute
) WITHOUT ROWID;

-- seq is never reused (AUTOINCREMENT), even after the newest events were purged, so a client
-- following the feed with ?after= never misses or repeats one.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,            -- "pool.created", "allocation.released", …
    resource TEXT NOT NULL,          -- "pools/blue", "allocations/c/ns/svc", …
    data TEXT NOT NULL               -- JSON object, built by SQLite's json_object()
);

CREATE INDEX events_by_time ON events (time);
