-- The first schema: budgets, the audit log, restore claims, used confirmation states.
CREATE TABLE rate_counts (
    key TEXT NOT NULL,
    span INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (key, span, bucket)
);
CREATE TABLE delete_spends (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX delete_spends_by_key ON delete_spends (key, at);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    sequence_id TEXT,
    tool TEXT NOT NULL,
    caller TEXT,
    outcome TEXT NOT NULL,
    deletes INTEGER NOT NULL,
    has_before INTEGER NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX audit_by_sequence ON audit (sequence_id, id);
CREATE INDEX audit_by_tool ON audit (tool, id);
CREATE INDEX audit_by_caller ON audit (caller, id);
CREATE INDEX audit_by_time ON audit (at);
CREATE INDEX audit_deletions ON audit (id) WHERE deletes = 1 AND has_before = 1 AND outcome = 'ok';
CREATE TABLE restore_claims (
    delete_id INTEGER PRIMARY KEY,
    at REAL NOT NULL
);
CREATE TABLE used_states (
    state_id TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
CREATE INDEX used_states_by_expiry ON used_states (expires);
