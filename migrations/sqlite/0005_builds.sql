-- Builds and attestations. (The builder role's CHECK on users is widened by the store after the
-- migrations, see `Store::widen_roles`: SQLite cannot change a CHECK inside the transaction sqlx
-- runs every SQLite migration in.)

-- One row per build of one artifact of a pin, by one builder. Never updated or deleted.
CREATE TABLE builds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    pin_id      BIGINT NOT NULL REFERENCES pins (id),
    name        TEXT NOT NULL,
    platform    TEXT NOT NULL,
    sha256      TEXT NOT NULL, -- lowercase hex
    size        BIGINT,
    builder     TEXT NOT NULL, -- the builder's identity as recorded (a URI or a name)
    recorded_by BIGINT REFERENCES users (id), -- null: the operator at the command line
    command     TEXT NOT NULL,
    toolchain   TEXT NOT NULL,
    notes       TEXT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    recorded_at BIGINT NOT NULL,
    uploaded    BIGINT NOT NULL -- 1 when the artifact is kept under artifacts/sha256/
);
CREATE INDEX builds_by_pin ON builds (pin_id, name, platform);
CREATE INDEX builds_by_sha256 ON builds (sha256);

-- Every DSSE envelope the server issued: provenance for one build, or a pin's review summary.
CREATE TABLE attestations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    pin_id          BIGINT NOT NULL REFERENCES pins (id),
    build_id        BIGINT REFERENCES builds (id),
    kind            TEXT NOT NULL CHECK (kind IN ('provenance', 'review')),
    envelope        TEXT NOT NULL, -- the DSSE envelope, JSON, exactly as served
    envelope_sha256 TEXT NOT NULL UNIQUE,
    issued_at       BIGINT NOT NULL
);
CREATE INDEX attestations_by_pin ON attestations (pin_id, id);
-- The subjects (artifact digests) each envelope names.
CREATE TABLE attestation_subjects (
    attestation_id BIGINT NOT NULL REFERENCES attestations (id),
    sha256         TEXT NOT NULL
);
CREATE INDEX attestation_subjects_by_sha256 ON attestation_subjects (sha256, attestation_id);

CREATE TRIGGER builds_no_update BEFORE UPDATE ON builds BEGIN SELECT RAISE(ABORT, 'builds are append-only'); END;
CREATE TRIGGER builds_no_delete BEFORE DELETE ON builds BEGIN SELECT RAISE(ABORT, 'builds are append-only'); END;
CREATE TRIGGER attestations_no_update BEFORE UPDATE ON attestations BEGIN SELECT RAISE(ABORT, 'attestations are append-only'); END;
CREATE TRIGGER attestations_no_delete BEFORE DELETE ON attestations BEGIN SELECT RAISE(ABORT, 'attestations are append-only'); END;
CREATE TRIGGER attestation_subjects_no_update BEFORE UPDATE ON attestation_subjects BEGIN SELECT RAISE(ABORT, 'attestations are append-only'); END;
CREATE TRIGGER attestation_subjects_no_delete BEFORE DELETE ON attestation_subjects BEGIN SELECT RAISE(ABORT, 'attestations are append-only'); END;
