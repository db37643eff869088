-- The compiled-code map (issue 35): which lines of a pin's files produced code in an artifact.

-- A debug file that accompanies an artifact (`objcopy --only-keep-debug`), kept with the artifacts
-- under its SHA-256 and matched to the artifact by the GNU build-id.
CREATE TABLE debug_files (
    id          BIGSERIAL PRIMARY KEY,
    pin_id      BIGINT NOT NULL REFERENCES pins (id),
    of_sha256   TEXT NOT NULL, -- the artifact it is the debug information of
    sha256      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    build_id    TEXT,          -- hex, when the file has the note
    recorded_by BIGINT REFERENCES users (id), -- null: the operator or the room
    recorded_at BIGINT NOT NULL,
    UNIQUE (pin_id, of_sha256, sha256)
);

-- One artifact's map at one pin: its state, and when done the map itself (zstd of its canonical
-- JSON, `docs/compiled-map.md`) with its digest and figures. Built again on demand.
CREATE TABLE compiled_maps (
    id              BIGSERIAL PRIMARY KEY,
    pin_id          BIGINT NOT NULL REFERENCES pins (id),
    sha256          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'no_debug_info', 'failed')),
    reason          TEXT,
    declared_prefix TEXT,   -- the build tree's path as the recorder or the room names it
    debug_sha256    TEXT,   -- the companion the lines were read from, if not the artifact
    build_id        TEXT,
    source_prefix   TEXT,   -- the prefix stripped to name pinned paths
    map             BYTEA,
    map_sha256      TEXT,
    files           BIGINT NOT NULL DEFAULT 0,
    lines           BIGINT NOT NULL DEFAULT 0,
    elsewhere_files BIGINT NOT NULL DEFAULT 0,
    elsewhere_lines BIGINT NOT NULL DEFAULT 0,
    mismatches      BIGINT NOT NULL DEFAULT 0,
    updated_at      BIGINT NOT NULL,
    UNIQUE (pin_id, sha256)
);
