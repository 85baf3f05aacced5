-- 0001_init.sql - the first schema of lbipam (store/store_int.h describes the invariants).
--
-- Addresses are big-endian BLOBs of 4 (IPv4) or 16 (IPv6) bytes, so that SQLite's memcmp
-- order of BLOBs is numeric order and every "greatest start <= ip" question is one B-tree
-- descent. `family` is 4 or 6. Times are unix milliseconds. Forward only: a later change is
-- a new NNNN_*.sql file, never an edit of this one.

CREATE TABLE clusters (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    labels TEXT NOT NULL,          -- lib/labels.h codec
    announcement INTEGER NOT NULL, -- enum announcement
    routable TEXT NOT NULL,        -- prefixes, canonical text, space-separated
    node_subnets TEXT NOT NULL,
    allocations INTEGER NOT NULL DEFAULT 0, -- status.allocations, kept by the allocation writes
    last_sync_at INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE pools (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    labels TEXT NOT NULL,
    service_selector TEXT NOT NULL, -- lib/labels.h selector codec
    cluster_selector TEXT NOT NULL,
    specific INTEGER NOT NULL,      -- serviceSelector not empty: tried before catch-all pools
    priority INTEGER NOT NULL,
    auto_assign INTEGER NOT NULL,
    disabled INTEGER NOT NULL,
    allow_first_last INTEGER NOT NULL,
    avoid_buggy INTEGER NOT NULL,
    has_v4 INTEGER NOT NULL,
    has_v6 INTEGER NOT NULL,
    -- Distinct allocated addresses per family, so that status is O(1). held_reserved_* counts
    -- the allocated addresses that the current flags reserve (held before a flag changed):
    -- used = used_* + reserved(blocks, flags) - held_reserved_*.
    used_v4 INTEGER NOT NULL DEFAULT 0,
    used_v6 INTEGER NOT NULL DEFAULT 0,
    held_reserved_v4 INTEGER NOT NULL DEFAULT 0,
    held_reserved_v6 INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Blocks of every pool. They never overlap (checked at write time), so the block containing
-- an address is the one with the greatest start <= ip, and the same lookup finds overlaps.
CREATE TABLE pool_blocks (
    pool_id INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, -- order given in the request
    family INTEGER NOT NULL,
    start BLOB NOT NULL,
    stop BLOB NOT NULL,
    form INTEGER NOT NULL,     -- enum block_form
    prefix_len INTEGER NOT NULL,
    PRIMARY KEY (pool_id, position)
) WITHOUT ROWID;
CREATE UNIQUE INDEX pool_blocks_by_start ON pool_blocks(family, start);

-- The allocator: free space as maximal-or-not disjoint ranges. Reserved addresses
-- (allowFirstLastIPs / avoidBuggyIPs) and held addresses are never in here.
CREATE TABLE free_ranges (
    pool_id INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    family INTEGER NOT NULL,
    start BLOB NOT NULL,
    stop BLOB NOT NULL,
    PRIMARY KEY (pool_id, family, start)
) WITHOUT ROWID;

-- Allocated addresses, one row per address whatever the number of sharers. All holders of
-- an address are in one cluster and carry the same sharing key (NULL: not shareable).
CREATE TABLE held (
    ip BLOB PRIMARY KEY,
    family INTEGER NOT NULL,
    pool_id INTEGER NOT NULL REFERENCES pools(id),
    cluster TEXT NOT NULL,
    sharing_key TEXT,
    holders INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX held_by_pool ON held(pool_id, family, ip);
-- Partial: unshared addresses (most of them) cost no entry; "sharing_key = ?" implies NOT NULL.
CREATE INDEX held_by_key ON held(cluster, sharing_key, family, ip) WHERE sharing_key IS NOT NULL;

-- One row per service identity; the request is stored column by column so that GET echoes
-- it and a repeated PUT can be recognised without writing.
CREATE TABLE allocations (
    id INTEGER PRIMARY KEY,
    cluster TEXT NOT NULL REFERENCES clusters(name),
    namespace TEXT NOT NULL,
    service TEXT NOT NULL,
    labels TEXT NOT NULL,
    families TEXT NOT NULL,         -- "4", "6", "46", "64" or ""
    policy INTEGER NOT NULL,        -- enum ip_family_policy
    requested TEXT NOT NULL,        -- addresses, canonical text, space-separated
    preferred TEXT NOT NULL,
    pool TEXT,
    sharing_key TEXT,
    cross_namespaces TEXT NOT NULL, -- length-prefixed strings: "11:kube-system1:*"
    ports TEXT NOT NULL,            -- "53/UDP 53/TCP"
    external_traffic_policy TEXT,
    pod_selector TEXT NOT NULL,     -- labels codec
    external_ref TEXT,
    managed_by TEXT,
    description TEXT,
    cond_satisfied INTEGER NOT NULL,
    cond_reason TEXT NOT NULL,
    cond_message TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX allocations_by_identity ON allocations(cluster, namespace, service);

-- Who holds what. The allocations of a pool are found through held_by_pool and the ip index
-- (pool deletes and the pool filter are rare; one index less to write per allocation).
CREATE TABLE allocation_addresses (
    allocation_id INTEGER NOT NULL REFERENCES allocations(id) ON DELETE CASCADE,
    ip BLOB NOT NULL REFERENCES held(ip),
    family INTEGER NOT NULL,
    pool_id INTEGER NOT NULL, -- = held.pool_id, kept here to name the pool without a join
    PRIMARY KEY (allocation_id, ip)
) WITHOUT ROWID;
CREATE INDEX allocation_addresses_by_ip ON allocation_addresses(ip, allocation_id);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    location TEXT,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, idem_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_age ON idempotency(created_at);
