-- Room builds (issue 34): the centre builds a pin itself, in a sandbox, from a recipe staff set.

-- A pin's recipe (the latest set; each setting is an event that holds it).
CREATE TABLE build_recipes (
    pin_id  BIGINT PRIMARY KEY REFERENCES pins (id),
    recipe  TEXT NOT NULL, -- canonical JSON
    digest  TEXT NOT NULL, -- SHA-256 of `recipe`, hex
    set_by  BIGINT REFERENCES users (id), -- null: the operator at the command line
    set_at  BIGINT NOT NULL
);

-- A toolchain root's digest, computed once (a root used by a build is never changed).
CREATE TABLE toolchains (
    name        TEXT PRIMARY KEY,
    digest      TEXT NOT NULL,
    computed_at BIGINT NOT NULL
);

-- One room build of a pin: its recipe as it was started, its state, log and outputs.
CREATE TABLE room_builds (
    id               BIGSERIAL PRIMARY KEY,
    pin_id           BIGINT NOT NULL REFERENCES pins (id),
    recipe           TEXT NOT NULL,
    recipe_digest    TEXT NOT NULL,
    toolchain_digest TEXT,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    reason           TEXT,   -- why it failed: exit status, timeout, limit, missing output
    requested_by     BIGINT REFERENCES users (id),
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT,
    attempts         BIGINT NOT NULL DEFAULT 0,
    log_sha256       TEXT,   -- the log, kept under its SHA-256 with the artifacts
    log_bytes        BIGINT,
    outputs          TEXT    -- JSON: [{artifact, platform, path, sha256, size, build_id}]
);
CREATE INDEX room_builds_by_pin ON room_builds (pin_id, id);

-- A diffoscope report on two artifacts of one name and platform that differ.
CREATE TABLE build_diffs (
    id            BIGSERIAL PRIMARY KEY,
    pin_id        BIGINT NOT NULL REFERENCES pins (id),
    name          TEXT NOT NULL,
    platform      TEXT NOT NULL,
    sha256_a      TEXT NOT NULL, -- the smaller of the two hashes
    sha256_b      TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    reason        TEXT,
    report_sha256 TEXT,   -- diffoscope's JSON, kept under its SHA-256
    html_sha256   TEXT,   -- diffoscope's HTML directory as a zip, kept under its SHA-256
    cut           BIGINT NOT NULL DEFAULT 0, -- 1 when a limit cut the report
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    UNIQUE (pin_id, name, platform, sha256_a, sha256_b)
);

-- A room build's log as it is written (each part once, in order), so that any instance can show a
-- running build's log; the whole log is also kept under its SHA-256 when the build ends.
CREATE TABLE room_build_logs (
    room_build_id BIGINT NOT NULL REFERENCES room_builds (id),
    at            BIGINT NOT NULL, -- the part's byte offset in the log
    bytes         BYTEA NOT NULL,
    PRIMARY KEY (room_build_id, at)
);
