-- Fewer pages written per append, and a log read in one pass.
--
-- 1. audit_objects had two indexes that no query reads: by (pin, path) and by blob id. Each put
--    every appended object into a random page of its index. Coverage reads a pin's objects by
--    (pin_id, event_idx) and exports by event_idx; both of those indexes stay. An index for a future
--    query comes back with that query.
-- 2. audit_events.idx was declared BIGINT PRIMARY KEY, which in SQLite is a separate index beside
--    the table's own rowid B-tree: each append wrote both, and each read of a range looked every row
--    up twice. As INTEGER PRIMARY KEY, idx is the rowid. The table is rebuilt with the same columns,
--    rows, bytes, indexes and triggers. The check that the log only grows reads audit_events, so it
--    is dropped first and made again after.
DROP INDEX audit_objects_by_pin;
DROP INDEX audit_objects_by_blob;

DROP TRIGGER log_state_only_grows;
CREATE TABLE audit_events_by_index (
    idx         INTEGER PRIMARY KEY,
    leaf        BLOB NOT NULL,
    leaf_hash   BLOB NOT NULL,
    recorded_at BIGINT NOT NULL,
    actor       TEXT,
    action      TEXT NOT NULL,
    pin_id      BIGINT,
    path        TEXT,
    outcome     TEXT NOT NULL
);
INSERT INTO audit_events_by_index (idx, leaf, leaf_hash, recorded_at, actor, action, pin_id, path, outcome)
SELECT idx, leaf, leaf_hash, recorded_at, actor, action, pin_id, path, outcome FROM audit_events ORDER BY idx;
DROP TABLE audit_events;
ALTER TABLE audit_events_by_index RENAME TO audit_events;

CREATE INDEX audit_events_by_actor ON audit_events (actor, idx);
CREATE INDEX audit_events_by_pin ON audit_events (pin_id, idx);
CREATE INDEX audit_events_by_action ON audit_events (action, idx);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER log_state_only_grows BEFORE UPDATE ON log_state
WHEN NEW.size < OLD.size
  OR (NEW.size = OLD.size AND (NEW.root <> OLD.root OR NEW.frontier <> OLD.frontier))
  OR (NEW.size > OLD.size AND (SELECT COUNT(*) FROM audit_events WHERE idx >= OLD.size AND idx < NEW.size) <> NEW.size - OLD.size)
BEGIN SELECT RAISE(ABORT, 'the audit log only grows by appending'); END;
