-- Regulator exports: one row per bundle asked for. The row tracks the work (state, file, hash);
-- the record of who asked for what, and of the bundle's SHA-256, is the audit log's.
CREATE TABLE exports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    created_by   BIGINT REFERENCES users (id), -- NULL: the operator (command line)
    scope        TEXT NOT NULL,                -- JSON: pins, reviewer, from_ms, until_ms
    previous     TEXT,                         -- the checkpoint the regulator holds, if given
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'expired')),
    file_name    TEXT,
    size         BIGINT,
    sha256       TEXT,
    events       BIGINT,
    message      TEXT,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    expires_at   BIGINT
);
CREATE INDEX exports_by_creator ON exports (created_by, id);
