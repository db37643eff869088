-- Leaf format v2 names every object an event concerns. This table repeats them, one row per object,
-- so that coverage, exports and the audit page find events by pin, path or blob without parsing
-- leaves. It is an index only: the leaf bytes are the record, and a verifier reads those.
CREATE TABLE audit_objects (
    event_idx  BIGINT NOT NULL,  -- audit_events.idx
    position   INTEGER NOT NULL, -- the object's place in the leaf's "objects" list
    pin_id     BIGINT NOT NULL,
    path       TEXT NOT NULL,
    blob_id    TEXT,             -- git object id shown (blob or tree), if any
    first_line BIGINT,           -- lines shown, if a range; NULL for the whole object
    last_line  BIGINT,
    PRIMARY KEY (event_idx, position)
);
CREATE INDEX audit_objects_by_pin ON audit_objects (pin_id, path);
CREATE INDEX audit_objects_by_blob ON audit_objects (blob_id);

CREATE TRIGGER audit_objects_no_update BEFORE UPDATE ON audit_objects
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_objects_no_delete BEFORE DELETE ON audit_objects
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

