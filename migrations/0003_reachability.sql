-- 0003_reachability.sql - reachability checks and their history (api.md §6), and the
-- per-cluster period of automatic checks.
--
-- A check is created with one check_results row per (address, probe), `ok` NULL until the
-- probe ran, so that a check is complete in the store from its first commit and survives a
-- restart as a record (lbipamd fails what it finds unfinished when it starts). Routes are the
-- route analysis at creation time: history keeps what the fabric looked like then.

ALTER TABLE clusters ADD COLUMN check_interval INTEGER NOT NULL DEFAULT 0; -- seconds, 0 = off

CREATE TABLE checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- creation order, never reused
    target_ip BLOB,          -- {"ip": …}; NULL for an allocation target
    target_family INTEGER,
    cluster TEXT,            -- {"allocation": "cluster/namespace/service"}
    namespace TEXT,
    service TEXT,
    state INTEGER NOT NULL,  -- enum check_state
    timeout_ms INTEGER NOT NULL,
    periodic INTEGER NOT NULL, -- made by the scheduler (checkIntervalSeconds)
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX checks_by_state ON checks(state, id);
CREATE INDEX checks_by_allocation ON checks(cluster, namespace, service, id);

CREATE TABLE check_routes (
    check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    ip BLOB NOT NULL,
    family INTEGER NOT NULL,
    verdict INTEGER NOT NULL,   -- enum route_verdict
    mechanism INTEGER NOT NULL, -- enum route_mechanism
    prefix TEXT,                -- matched prefix, canonical text; NULL when none
    detail TEXT NOT NULL,
    PRIMARY KEY (check_id, position)
) WITHOUT ROWID;

CREATE TABLE check_results (
    check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    ip BLOB NOT NULL,
    family INTEGER NOT NULL,
    type TEXT NOT NULL,          -- tcp | http | https | icmp
    port INTEGER NOT NULL,       -- 0 for icmp
    path TEXT,                   -- http(s)
    expect_status INTEGER NOT NULL,
    ok INTEGER,                  -- NULL until the probe ran
    latency_us INTEGER,          -- when ok
    error TEXT,                  -- when not ok
    PRIMARY KEY (check_id, position)
) WITHOUT ROWID;
-- "the latest check of an address" and ?ip= are one descent.
CREATE INDEX check_results_by_ip ON check_results(ip, check_id);
