-- The reviewer workflow: comments (with findings and private notes), their versions and states,
-- reviewed marks, verdicts, and the per-pin file index coverage is computed over. Every table here
-- is append-only: an edit is a new version, a state change a new state row, an unmark a new mark
-- row, a new verdict supersedes the old one. Nothing is ever updated or deleted.

-- A comment, a finding (a comment with a severity) or a private note. A reply names the root of its
-- thread. path '' is the whole pin; start_line/end_line NULL is the whole file.
CREATE TABLE comments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pin_id     BIGINT NOT NULL REFERENCES pins (id),
    path       TEXT NOT NULL,
    blob_id    TEXT,            -- the file's blob at the pin, so the comment can be carried to other pins
    start_line BIGINT,
    end_line   BIGINT,
    author_id  BIGINT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind IN ('comment', 'finding', 'note')),
    severity   TEXT CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    reply_to   BIGINT REFERENCES comments (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_by_pin ON comments (pin_id, path);
CREATE INDEX comments_by_blob ON comments (blob_id);
CREATE INDEX comments_by_thread ON comments (reply_to);
CREATE INDEX comments_by_author ON comments (author_id);

-- Every version of a comment's text (Markdown as typed); the highest version is current.
CREATE TABLE comment_versions (
    comment_id BIGINT NOT NULL REFERENCES comments (id),
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,
    author_id  BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (comment_id, version)
);

-- Every state a thread (or finding) went through; the highest seq is current. fixed_pin names the
-- pin at which a finding's fix was verified.
CREATE TABLE comment_states (
    comment_id BIGINT NOT NULL REFERENCES comments (id),
    seq        INTEGER NOT NULL,
    state      TEXT NOT NULL,
    reason     TEXT,
    fixed_pin  BIGINT REFERENCES pins (id),
    by_id      BIGINT REFERENCES users (id),
    at         BIGINT NOT NULL,
    PRIMARY KEY (comment_id, seq)
);

-- Reviewed marks: each mark or unmark is a row; the latest per (pin, path, reviewer) counts.
CREATE TABLE reviewed_marks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pin_id      BIGINT NOT NULL REFERENCES pins (id),
    path        TEXT NOT NULL,
    blob_id     TEXT NOT NULL,
    reviewer_id BIGINT NOT NULL REFERENCES users (id),
    reviewed    BIGINT NOT NULL, -- 1 marked, 0 unmarked
    at          BIGINT NOT NULL
);
CREATE INDEX reviewed_marks_by_pin ON reviewed_marks (pin_id, reviewer_id, path, id);
CREATE INDEX reviewed_marks_by_blob ON reviewed_marks (reviewer_id, blob_id);

-- A reviewer's verdict for a pin, with what was true when it was given. A later verdict by the same
-- reviewer supersedes it.
CREATE TABLE verdicts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pin_id        BIGINT NOT NULL REFERENCES pins (id),
    reviewer_id   BIGINT NOT NULL REFERENCES users (id),
    verdict       TEXT NOT NULL CHECK (verdict IN ('no_objection', 'concerns', 'objection')),
    summary       TEXT NOT NULL,
    commit_id     TEXT NOT NULL,
    coverage      TEXT NOT NULL, -- JSON: the reviewer's coverage figures at that moment
    open_findings TEXT NOT NULL, -- JSON: the open findings of the pin at that moment
    binaries      TEXT NOT NULL, -- JSON: the SHA-256 of every build recorded for the pin then
    supersedes    BIGINT REFERENCES verdicts (id),
    created_at    BIGINT NOT NULL
);
CREATE INDEX verdicts_by_pin ON verdicts (pin_id, reviewer_id);

-- The files of a pin, indexed once by a background job: what coverage counts, what the file finder
-- searches. lines is the number of lines of a text file (0 for binaries).
CREATE TABLE pin_files (
    pin_id  BIGINT NOT NULL REFERENCES pins (id),
    path    TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    bytes   BIGINT NOT NULL,
    lines   BIGINT NOT NULL,
    is_binary BIGINT NOT NULL, -- 1 for a binary file
    PRIMARY KEY (pin_id, path)
);
CREATE INDEX pin_files_by_blob ON pin_files (blob_id);

-- Coverage reads a pin's shown objects incrementally, by event index.
CREATE INDEX audit_objects_by_pin_event ON audit_objects (pin_id, event_idx);

-- A counter per repository that every comment, version and state write moves (in its transaction),
-- so that a server can keep a file's comments in memory and know, with one cheap read, when they
-- changed. Not a record of anything: the comment tables are.
CREATE TABLE comment_revisions (
    repository_id BIGINT PRIMARY KEY,
    revision      BIGINT NOT NULL
);

-- Background jobs (indexing a pin, and later pre-highlighting and exports): resumable after a
-- restart, with progress for the UI. An instance claims a job by setting its heartbeat; a job whose
-- heartbeat is older than a minute is taken over.
CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,
    subject      BIGINT NOT NULL,  -- the pin (or export) the job works on
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    done_units   BIGINT NOT NULL DEFAULT 0,
    total_units  BIGINT NOT NULL DEFAULT 0,
    message      TEXT,
    created_at   BIGINT NOT NULL,
    heartbeat_at BIGINT,
    finished_at  BIGINT
);
CREATE INDEX jobs_by_state ON jobs (state, id);
CREATE INDEX jobs_by_subject ON jobs (kind, subject);

CREATE TRIGGER comments_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON comments
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
CREATE TRIGGER comment_versions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON comment_versions
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
CREATE TRIGGER comment_states_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON comment_states
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
CREATE TRIGGER reviewed_marks_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON reviewed_marks
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
CREATE TRIGGER verdicts_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON verdicts
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
