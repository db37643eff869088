-- Builds and attestations, and the builder role.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('staff', 'reviewer', 'regulator', 'builder'));

-- One row per build of one artifact of a pin, by one builder. Never updated or deleted.
CREATE TABLE builds (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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

CREATE TRIGGER builds_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON builds
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
CREATE TRIGGER attestations_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON attestations
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
CREATE TRIGGER attestation_subjects_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON attestation_subjects
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
